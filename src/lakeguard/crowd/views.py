"""Crowd endpoints: occupancy now, an area's series and forecast, alerts and plan checklists."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from lakeguard.api.deps import CurrentVenue, DbSession, NoVenueLoaded, Now, State, unit_of_work
from lakeguard.api.state import AppState
from lakeguard.auth.policy import Dispatcher, Staff, require
from lakeguard.auth.roles import RESPONSE, Principal
from lakeguard.crowd import alert_actions
from lakeguard.crowd.cycle import CrowdRuntime
from lakeguard.crowd.models import (
    AlertDetailRead,
    AlertRead,
    AlertTimelineEntryRead,
    EstimateRead,
    EstimateRow,
    ForecastPointRead,
    PlanRunRead,
    PlanStepRead,
    SensorFaultRead,
    SeriesPointRead,
    SeriesRead,
)
from lakeguard.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["crowd"])

# Whoever owns a step may tick it: the command room, or officers and guards on the ground.
StepOwner = Annotated[Principal, Depends(require(*RESPONSE))]


class AlertAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000)


class SensorFault(BaseModel):
    model_config = ConfigDict(extra="forbid")

    faulty: bool = Field(description="true: ignore its reports; false: use them again")


class ManualCount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=0, le=1_000_000, description="people counted in the whole area")
    std: float = Field(gt=0, le=1_000_000, description="how far off the count may be (1 σ)")


class StepUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["done", "skipped"]
    note: str = Field("", max_length=2000, description="required when skipping")


def _runtime(state: AppState) -> CrowdRuntime:
    if state.crowd is None:
        raise NoVenueLoaded("load a scenario, then restart the server")
    return state.crowd


def _names(venue: CurrentVenue) -> dict[str, str]:
    return {a.id: a.name.en for a in venue.scenario.areas}


@router.get("/crowd", summary="Occupancy now, per observed area")
def read_crowd(who: Staff, state: State, now: Now) -> list[EstimateRead]:
    runtime = _runtime(state)
    with runtime.lock:
        monitor = runtime.monitor
        return [
            EstimateRead.of(e, monitor.level(e.area_id)) for e in monitor.estimates(now.timestamp())
        ]


@router.get("/crowd/{area_id}/series", summary="An area's history and forecast")
def read_series(
    area_id: str,
    who: Staff,
    state: State,
    session: DbSession,
    now: Now,
    hours: Annotated[float, Query(gt=0, le=72)] = 6,
) -> SeriesRead:
    runtime = _runtime(state)
    if area_id not in {a.id for a in runtime.context.scenario.areas}:
        raise NotFound(f"no area {area_id!r}")
    since = now - timedelta(hours=hours)
    rows = session.scalars(
        select(EstimateRow)
        .where(EstimateRow.area_id == area_id, EstimateRow.at >= since)
        .order_by(EstimateRow.at)
    )
    with runtime.lock:
        forecasts = runtime.monitor.forecast(area_id)
    return SeriesRead(
        area_id=area_id,
        history=[
            SeriesPointRead(
                at=r.at, occupancy=round(r.occupancy, 1), std=round(r.std, 1), ratio=r.ratio
            )
            for r in rows
        ],
        forecast=[
            ForecastPointRead(horizon_s=f.horizon_s, value=f.value, low=f.low, high=f.high)
            for f in forecasts
        ],
    )


@router.post("/sensors/{sensor_id}/fault", summary="Mark a sensor faulty, or restore it")
def mark_sensor(
    sensor_id: str, body: SensorFault, who: Dispatcher, state: State
) -> SensorFaultRead:
    runtime = _runtime(state)
    if sensor_id not in {s.id for s in runtime.context.scenario.sensors}:
        raise NotFound(f"no sensor {sensor_id!r}")
    runtime.mark_faulty(sensor_id, body.faulty)
    return SensorFaultRead(sensor_id=sensor_id, faulty=body.faulty)


@router.post("/crowd/{area_id}/counts", summary="Enter a manual head count of an area")
def enter_count(
    area_id: str, body: ManualCount, who: Dispatcher, state: State, now: Now
) -> EstimateRead:
    runtime = _runtime(state)
    if area_id not in {a.id for a in runtime.context.scenario.areas}:
        raise NotFound(f"no area {area_id!r}")
    runtime.manual_count(area_id, at=now, count=body.count, std=body.std)
    with runtime.lock:
        monitor = runtime.monitor
        (estimate,) = [e for e in monitor.estimates(now.timestamp()) if e.area_id == area_id]
        return EstimateRead.of(estimate, monitor.level(area_id))


@router.get("/alerts", summary="Crowd alerts, open ones unless asked for all")
def read_alerts(
    who: Staff, venue: CurrentVenue, session: DbSession, include_closed: bool = False
) -> list[AlertRead]:
    names = _names(venue)
    rows = alert_actions.list_alerts(
        session, venue_id=venue.scenario.id, include_closed=include_closed
    )
    return [AlertRead.of(r, names) for r in rows]


@router.get("/alerts/{alert_id}", summary="An alert with its timeline and plan checklist")
def read_alert(
    alert_id: int, who: Staff, venue: CurrentVenue, session: DbSession
) -> AlertDetailRead:
    row = alert_actions.get_alert(session, alert_id)
    return AlertDetailRead(
        **AlertRead.of(row, _names(venue)).model_dump(),
        timeline=[
            AlertTimelineEntryRead.of(t) for t in alert_actions.timeline_of(session, alert_id)
        ],
        plans=[
            PlanRunRead(
                run_id=run.id, started_at=run.started_at, steps=[PlanStepRead.of(s) for s in steps]
            )
            for run, steps in alert_actions.plan_of(session, alert_id)
        ],
    )


@router.post("/alerts/{alert_id}/acknowledge", summary="Take ownership of an alert")
def acknowledge(
    alert_id: int,
    body: AlertAction,
    who: Dispatcher,
    venue: CurrentVenue,
    session: DbSession,
    now: Now,
) -> AlertRead:
    with unit_of_work(session):
        row = alert_actions.acknowledge_alert(
            session, alert_id=alert_id, actor=who.subject, now=now, note=body.note
        )
        return AlertRead.of(row, _names(venue))


@router.post("/alerts/{alert_id}/close", summary="Close an alert whose level has cleared")
def close(
    alert_id: int,
    body: AlertAction,
    who: Dispatcher,
    venue: CurrentVenue,
    session: DbSession,
    now: Now,
) -> AlertRead:
    with unit_of_work(session):
        row = alert_actions.close_alert(
            session, alert_id=alert_id, actor=who.subject, now=now, note=body.note
        )
        return AlertRead.of(row, _names(venue))


@router.post("/plan-steps/{step_id}", summary="Tick an emergency plan step done or skipped")
def update_step(
    step_id: int, body: StepUpdate, who: StepOwner, session: DbSession, now: Now
) -> PlanStepRead:
    with unit_of_work(session):
        row = alert_actions.mark_step(
            session,
            step_id=step_id,
            status=body.status,
            actor=who.subject,
            now=now,
            note=body.note,
        )
        return PlanStepRead.of(row)
