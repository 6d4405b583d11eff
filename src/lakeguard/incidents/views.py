"""Incident endpoints: intake, recommendation, dispatch, unit progress, metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from lakeguard.api.deps import CurrentVenue, DbSession, Now, State, unit_of_work
from lakeguard.api.state import ActiveVenue, AppState
from lakeguard.auth.policy import Dispatcher, Watcher, require
from lakeguard.auth.roles import COMMAND, RESPONSE, Principal, Role
from lakeguard.errors import Forbidden
from lakeguard.incidents import metrics, queries
from lakeguard.incidents import service as incidents
from lakeguard.incidents.engine import Recommendation
from lakeguard.incidents.models import (
    AlternativeRead,
    AssignmentStatusRead,
    DispatchRead,
    IncidentDetailRead,
    IncidentRead,
    IncidentRow,
    PickRead,
    RecommendationRead,
    ResponseMetricsRead,
    ShortfallRead,
)
from lakeguard.incidents.states import AssignmentStatus
from lakeguard.venue.plans import ResponsePlan

router = APIRouter(prefix="/api/v1", tags=["incidents"])

Responder = Annotated[Principal, Depends(require(*RESPONSE, Role.DEVICE, scope="api"))]


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="incident type code from the venue's response plans")
    source: Literal["phone", "walk_in", "patrol", "sensor_alert", "resident_group", "app"]
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    place: str | None = Field(None, max_length=200, description="place name, e.g. 断桥")
    description: str = Field("", max_length=4000)
    caller: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _located(self) -> IncidentCreate:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        if self.lon is None and not self.place:
            raise ValueError("locate the incident by lon and lat or by place name")
        return self


class DispatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept_recommendation: bool = Field(False, description="send every recommended unit")
    unit_ids: list[str] = Field(default_factory=list, description="or pick units by hand")


class AssignmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["acknowledged", "on_scene", "resolved", "cancelled"]


def _recommend(
    session: Session, venue: ActiveVenue, row: IncidentRow, now: datetime, state: AppState
) -> Recommendation:
    """Rank units for an incident, timing walkers through the crowd the monitor sees."""
    return incidents.recommend_for(
        session,
        venue=venue.context,
        incident=row,
        now=now,
        max_age_s=state.settings.position_max_age_s,
        densities=state.crowd.densities(now) if state.crowd is not None else None,
    )


def recommendation_read(rec: Recommendation) -> RecommendationRead:
    return RecommendationRead(
        plan=rec.plan,
        complete=rec.complete,
        considered=rec.considered,
        units=[
            PickRead(
                unit_id=p.unit_id,
                eta_s=round(p.eta_s, 1),
                eta_p90_s=None if p.eta_p90_s is None else round(p.eta_p90_s, 1),
                capability=p.capability,
                reasons=[r.value for r in p.reasons],
            )
            for p in rec.picks
        ],
        shortfalls=[
            ShortfallRead(capability=g.capability, missing=g.missing, code=g.code.value)
            for g in rec.gaps
        ],
        alternatives=[
            AlternativeRead(unit_id=a.unit_id, eta_s=round(a.eta_s, 1)) for a in rec.alternatives
        ],
    )


@router.post("/incidents", status_code=201, summary="Report an incident")
def create_incident(
    body: IncidentCreate, who: Dispatcher, venue: CurrentVenue, session: DbSession, now: Now
) -> IncidentRead:
    with unit_of_work(session):
        row = incidents.create_incident(
            session,
            venue=venue.context,
            type=body.type,
            source=body.source,
            actor=who.subject,
            now=now,
            lon=body.lon,
            lat=body.lat,
            place=body.place,
            description=body.description,
            caller=body.caller,
        )
        return IncidentRead.of(row)


@router.get("/incidents", summary="The incident board")
def list_incidents(
    who: Watcher,
    session: DbSession,
    status: Annotated[str | None, Query(description="a status, or 'open'")] = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="at most this many")] = 200,
) -> list[IncidentRead]:
    rows = incidents.list_incidents(session, status=status, limit=limit)
    return [IncidentRead.of(r) for r in rows]


@router.get("/incidents/{incident_id}", summary="One incident with its units and timeline")
def read_incident(
    incident_id: int, who: Watcher, session: DbSession, venue: CurrentVenue
) -> IncidentDetailRead:
    with unit_of_work(session):
        row = queries.read_incident(
            session, incident_id=incident_id, plans=venue.context.plans, reader=who
        )
        return queries.incident_detail(session, row)


@router.get("/incidents/{incident_id}/recommendation", summary="Units to send, ranked by ETA")
def read_recommendation(
    incident_id: int,
    who: Dispatcher,
    venue: CurrentVenue,
    session: DbSession,
    now: Now,
    state: State,
) -> RecommendationRead:
    row = incidents.get_incident(session, incident_id=incident_id)
    rec = _recommend(session, venue, row, now, state)
    return recommendation_read(rec)


@router.post("/incidents/{incident_id}/dispatch", summary="Send units")
def dispatch(
    incident_id: int,
    body: DispatchRequest,
    who: Dispatcher,
    venue: CurrentVenue,
    session: DbSession,
    now: Now,
    state: State,
) -> DispatchRead:
    with unit_of_work(session):
        row = incidents.get_incident(session, incident_id=incident_id)
        ranges: dict[str, float | None] = {}
        if body.accept_recommendation:
            rec = _recommend(session, venue, row, now, state)
            chosen: list[tuple[str, float | None, list[str]]] = [
                (p.unit_id, p.eta_s, [r.value for r in p.reasons]) for p in rec.picks
            ]
            ranges = {p.unit_id: p.eta_p90_s for p in rec.picks}
        else:
            chosen = [(uid, None, ["dispatcher_choice"]) for uid in body.unit_ids]
        created = incidents.dispatch_units(
            session,
            incident_id=incident_id,
            units=chosen,
            actor=who.subject,
            now=now,
            eta_p90=ranges,
        )
        return DispatchRead(incident_id=incident_id, dispatched=[a.unit_id for a in created])


@router.post("/incidents/{incident_id}/assignments/{unit_id}", summary="A unit's progress")
def update_assignment(
    incident_id: int,
    unit_id: str,
    body: AssignmentUpdate,
    who: Responder,
    session: DbSession,
    now: Now,
) -> AssignmentStatusRead:
    field_only = not who.roles & COMMAND
    if field_only and who.unit_id != unit_id:
        raise Forbidden("officers report progress for their own unit only")
    with unit_of_work(session):
        a = incidents.change_assignment_status(
            session,
            incident_id=incident_id,
            unit_id=unit_id,
            status=AssignmentStatus(body.status),
            actor=who.subject,
            now=now,
        )
        return AssignmentStatusRead(incident_id=incident_id, unit_id=unit_id, status=a.status)


@router.post("/incidents/{incident_id}/close", summary="Close a resolved incident")
def close(incident_id: int, who: Dispatcher, session: DbSession, now: Now) -> IncidentRead:
    with unit_of_work(session):
        return IncidentRead.of(
            incidents.close_incident(session, incident_id=incident_id, actor=who.subject, now=now)
        )


@router.post("/incidents/{incident_id}/cancel", summary="Cancel before anyone is on scene")
def cancel(incident_id: int, who: Dispatcher, session: DbSession, now: Now) -> IncidentRead:
    with unit_of_work(session):
        return IncidentRead.of(
            incidents.cancel_incident(session, incident_id=incident_id, actor=who.subject, now=now)
        )


@router.get("/incident-types", summary="Incident types and their response plans")
def incident_types(who: Watcher, venue: CurrentVenue) -> list[ResponsePlan]:
    return list(venue.context.plans.values())


@router.get("/places", summary="Complete a place name from the gazetteer")
def places(
    who: Dispatcher, venue: CurrentVenue, q: Annotated[str, Query(min_length=1, max_length=100)]
) -> list[str]:
    return venue.context.gazetteer.suggest(q)


@router.get("/metrics/response", summary="Response-time intervals (NFPA 1710)")
def response_metrics(
    who: Watcher,
    session: DbSession,
    since: Annotated[datetime | None, Query(description="UTC ISO time; default: all")] = None,
    group_by: Annotated[Literal["type", "area", "station", "unit"] | None, Query()] = None,
) -> ResponseMetricsRead:
    found = metrics.samples(incidents.incident_times(session, since=since))
    return ResponseMetricsRead.model_validate(
        {"since": since, "group_by": group_by, "intervals": metrics.report(found, group_by)}
    )
