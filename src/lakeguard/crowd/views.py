"""Crowd endpoints: occupancy now, an area's series and forecast, alerts and plan checklists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from lakeguard.api.deps import CurrentVenue, DbSession, Now, State, unit_of_work
from lakeguard.api.problems import ProblemError
from lakeguard.api.state import AppState
from lakeguard.auth.policy import Dispatcher, Staff, require
from lakeguard.auth.roles import RESPONSE, Principal
from lakeguard.crowd import alert_actions
from lakeguard.crowd.alerts import Level
from lakeguard.crowd.cycle import CrowdRuntime
from lakeguard.crowd.estimator import Estimate
from lakeguard.crowd.models import AlertRow, EstimateRow, PlanStepRow

router = APIRouter(prefix="/api/v1", tags=["crowd"])

# Whoever owns a step may tick it: the command room, or officers and guards on the ground.
StepOwner = Annotated[Principal, Depends(require(*RESPONSE))]


class AlertAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000)


class StepUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["done", "skipped"]
    note: str = Field("", max_length=2000, description="required when skipping")


def _runtime(state: AppState) -> CrowdRuntime:
    if state.crowd is None:
        raise ProblemError(503, "No venue loaded", "load a scenario, then restart the server")
    return state.crowd


def estimate_json(e: Estimate, level: Level) -> dict[str, Any]:
    return {
        "area_id": e.area_id,
        "at": datetime.fromtimestamp(e.at, UTC).isoformat(),
        "occupancy": round(e.occupancy, 1),
        "std": round(e.std, 1),
        "density": round(e.density, 4),
        "level_of_service": e.level_of_service,
        "capacity": e.capacity,
        "ratio": None if e.ratio is None else round(e.ratio, 4),
        "local_density": e.local_density,
        "anchored": e.anchored,
        "level": level.label,
    }


def _label(level: int | None) -> str | None:
    return None if level is None else Level(level).label


def alert_json(row: AlertRow, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "area_id": row.area_id,
        "area": names.get(row.area_id),
        "status": row.status,
        "level": Level(row.level).label,
        "peak_level": Level(row.peak_level).label,
        "cause": row.cause,
        "ratio": row.ratio,
        "density": row.density,
        "predicted_level": None
        if row.predicted_level is None
        else Level(row.predicted_level).label,
        "predicted_in_s": row.predicted_in_s,
        "opened_at": row.opened_at.isoformat(),
        "changed_at": row.changed_at.isoformat(),
        "acknowledged_at": row.acknowledged_at.isoformat() if row.acknowledged_at else None,
        "acknowledged_by": row.acknowledged_by,
        "closed_at": row.closed_at.isoformat() if row.closed_at else None,
        "closed_by": row.closed_by,
    }


def step_json(row: PlanStepRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "action": row.action,
        "text": {"zh": row.text_zh, "en": row.text_en},
        "owner": row.owner,
        "due_at": row.due_at.isoformat(),
        "status": row.status,
        "done_at": row.done_at.isoformat() if row.done_at else None,
        "done_by": row.done_by,
        "incident_id": row.incident_id,
        "detail": row.detail,
    }


def _names(venue: CurrentVenue) -> dict[str, str]:
    return {a.id: a.name.en for a in venue.scenario.areas}


@router.get("/crowd", summary="Occupancy now, per observed area")
def read_crowd(who: Staff, state: State, now: Now) -> list[dict[str, Any]]:
    runtime = _runtime(state)
    with runtime.lock:
        monitor = runtime.monitor
        return [
            estimate_json(e, monitor.level(e.area_id)) for e in monitor.estimates(now.timestamp())
        ]


@router.get("/crowd/{area_id}/series", summary="An area's history and forecast")
def read_series(
    area_id: str,
    who: Staff,
    state: State,
    session: DbSession,
    now: Now,
    hours: Annotated[float, Query(gt=0, le=72)] = 6,
) -> dict[str, Any]:
    runtime = _runtime(state)
    if area_id not in {a.id for a in runtime.context.scenario.areas}:
        raise ProblemError(404, "Not found", f"no area {area_id!r}")
    since = now - timedelta(hours=hours)
    rows = session.scalars(
        select(EstimateRow)
        .where(EstimateRow.area_id == area_id, EstimateRow.at >= since)
        .order_by(EstimateRow.at)
    )
    with runtime.lock:
        forecasts = runtime.monitor.forecast(area_id)
    return {
        "area_id": area_id,
        "history": [
            {
                "at": r.at.isoformat(),
                "occupancy": round(r.occupancy, 1),
                "std": round(r.std, 1),
                "ratio": r.ratio,
            }
            for r in rows
        ],
        "forecast": [
            {"horizon_s": f.horizon_s, "value": f.value, "low": f.low, "high": f.high}
            for f in forecasts
        ],
    }


@router.get("/alerts", summary="Crowd alerts, open ones unless asked for all")
def read_alerts(
    who: Staff, venue: CurrentVenue, session: DbSession, include_closed: bool = False
) -> list[dict[str, Any]]:
    names = _names(venue)
    rows = alert_actions.list_alerts(
        session, venue_id=venue.scenario.id, include_closed=include_closed
    )
    return [alert_json(r, names) for r in rows]


@router.get("/alerts/{alert_id}", summary="An alert with its timeline and plan checklist")
def read_alert(
    alert_id: int, who: Staff, venue: CurrentVenue, session: DbSession
) -> dict[str, Any]:
    try:
        row = alert_actions.get_alert(session, alert_id)
    except alert_actions.AlertNotFound as exc:
        raise ProblemError(404, "Not found", str(exc)) from exc
    body = alert_json(row, _names(venue))
    body["timeline"] = [
        {
            "at": t.at.isoformat(),
            "what": t.what,
            "from_level": _label(t.from_level),
            "to_level": _label(t.to_level),
            "actor": t.actor,
            "note": t.note,
        }
        for t in alert_actions.timeline_of(session, alert_id)
    ]
    body["plans"] = [
        {
            "run_id": run.id,
            "started_at": run.started_at.isoformat(),
            "steps": [step_json(s) for s in steps],
        }
        for run, steps in alert_actions.plan_of(session, alert_id)
    ]
    return body


def _handle(exc: Exception) -> ProblemError:
    if isinstance(exc, alert_actions.AlertNotFound | alert_actions.StepNotFound):
        return ProblemError(404, "Not found", str(exc))
    return ProblemError(409, "Conflict", str(exc))


@router.post("/alerts/{alert_id}/acknowledge", summary="Take ownership of an alert")
def acknowledge(
    alert_id: int,
    body: AlertAction,
    who: Dispatcher,
    venue: CurrentVenue,
    session: DbSession,
    now: Now,
) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            row = alert_actions.acknowledge_alert(
                session, alert_id=alert_id, actor=who.subject, now=now, note=body.note
            )
            return alert_json(row, _names(venue))
    except (alert_actions.AlertNotFound, alert_actions.NotAllowedNow) as exc:
        raise _handle(exc) from exc


@router.post("/alerts/{alert_id}/close", summary="Close an alert whose level has cleared")
def close(
    alert_id: int,
    body: AlertAction,
    who: Dispatcher,
    venue: CurrentVenue,
    session: DbSession,
    now: Now,
) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            row = alert_actions.close_alert(
                session, alert_id=alert_id, actor=who.subject, now=now, note=body.note
            )
            return alert_json(row, _names(venue))
    except (alert_actions.AlertNotFound, alert_actions.NotAllowedNow) as exc:
        raise _handle(exc) from exc


class SensorFault(BaseModel):
    model_config = ConfigDict(extra="forbid")
    faulty: bool = Field(description="true: ignore its reports; false: use them again")


class ManualCount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(ge=0, le=1_000_000, description="people counted in the whole area")
    std: float = Field(gt=0, le=1_000_000, description="how far off the count may be (1 σ)")


@router.post("/sensors/{sensor_id}/fault", summary="Mark a sensor faulty, or restore it")
def mark_sensor(sensor_id: str, body: SensorFault, who: Dispatcher, state: State) -> dict[str, Any]:
    runtime = _runtime(state)
    if sensor_id not in {s.id for s in runtime.context.scenario.sensors}:
        raise ProblemError(404, "Not found", f"no sensor {sensor_id!r}")
    runtime.mark_faulty(sensor_id, body.faulty)
    return {"sensor_id": sensor_id, "faulty": body.faulty}


@router.post("/crowd/{area_id}/counts", summary="Enter a manual head count of an area")
def enter_count(
    area_id: str, body: ManualCount, who: Dispatcher, state: State, now: Now
) -> dict[str, Any]:
    runtime = _runtime(state)
    if area_id not in {a.id for a in runtime.context.scenario.areas}:
        raise ProblemError(404, "Not found", f"no area {area_id!r}")
    runtime.manual_count(area_id, at=now, count=body.count, std=body.std)
    with runtime.lock:
        (estimate,) = [
            e for e in runtime.monitor.estimates(now.timestamp()) if e.area_id == area_id
        ]
        return estimate_json(estimate, runtime.monitor.level(area_id))


@router.post("/plan-steps/{step_id}", summary="Tick an emergency plan step done or skipped")
def update_step(
    step_id: int, body: StepUpdate, who: StepOwner, session: DbSession, now: Now
) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            row = alert_actions.mark_step(
                session,
                step_id=step_id,
                status=body.status,
                actor=who.subject,
                now=now,
                note=body.note,
            )
            return step_json(row)
    except (alert_actions.StepNotFound, alert_actions.NotAllowedNow) as exc:
        raise _handle(exc) from exc
