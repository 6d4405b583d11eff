"""Incident endpoints: intake, recommendation, dispatch, unit progress, metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lakeguard.api.deps import CurrentVenue, DbSession, Now, State, unit_of_work
from lakeguard.api.problems import ProblemError
from lakeguard.api.state import AppState
from lakeguard.auth.audit import audit_read
from lakeguard.auth.policy import Dispatcher, Watcher, require
from lakeguard.auth.roles import COMMAND, RESPONSE, Principal, Role
from lakeguard.incidents import metrics
from lakeguard.incidents import service as incidents
from lakeguard.incidents.engine import Recommendation
from lakeguard.incidents.gazetteer import UnknownPlace
from lakeguard.incidents.models import IncidentRow
from lakeguard.incidents.states import AssignmentStatus, IllegalTransition

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


def _densities(state: AppState, now: datetime) -> dict[str, float] | None:
    """The crowd as the monitor sees it, so walking units are timed through it."""
    return state.crowd.densities(now) if state.crowd is not None else None


def incident_json(row: IncidentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "priority": row.priority,
        "status": row.status,
        "source": row.source,
        "lon": row.lon,
        "lat": row.lat,
        "area_id": row.area_id,
        "station_id": row.station_id,
        "place": row.place,
        "description": row.description,
        "received_at": row.received_at.isoformat(),
        "closed_at": row.closed_at.isoformat() if row.closed_at else None,
    }


def recommendation_json(rec: Recommendation) -> dict[str, Any]:
    return {
        "plan": rec.plan,
        "complete": rec.complete,
        "considered": rec.considered,
        "units": [
            {
                "unit_id": p.unit_id,
                "eta_s": round(p.eta_s, 1),
                "capability": p.capability,
                "reasons": [r.value for r in p.reasons],
            }
            for p in rec.picks
        ],
        "shortfalls": [
            {"capability": g.capability, "missing": g.missing, "code": g.code.value}
            for g in rec.gaps
        ],
    }


def _errors(exc: Exception) -> ProblemError:
    if isinstance(exc, UnknownPlace):
        return ProblemError(
            422, "Unknown place", str(exc), field="place", suggestions=exc.suggestions
        )
    if isinstance(exc, incidents.UnknownIncidentType):
        return ProblemError(422, "Unknown incident type", str(exc), field="type")
    if isinstance(exc, incidents.IncidentNotFound):
        return ProblemError(404, "Not found", str(exc))
    if isinstance(exc, IllegalTransition):
        return ProblemError(409, "Illegal transition", str(exc))
    return ProblemError(422, "Invalid request", str(exc))


_EXPECTED = (
    UnknownPlace,
    incidents.UnknownIncidentType,
    incidents.IncidentNotFound,
    IllegalTransition,
    ValueError,
)


@router.post("/incidents", status_code=201, summary="Report an incident")
def create_incident(
    body: IncidentCreate, who: Dispatcher, venue: CurrentVenue, session: DbSession, now: Now
) -> dict[str, Any]:
    try:
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
            return incident_json(row)
    except _EXPECTED as exc:
        raise _errors(exc) from exc


@router.get("/incidents", summary="The incident board")
def list_incidents(
    who: Watcher,
    session: DbSession,
    status: Annotated[str | None, Query(description="a status, or 'open'")] = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="at most this many")] = 200,
) -> list[dict[str, Any]]:
    rows = incidents.list_incidents(session, status=status, limit=limit)
    return [incident_json(r) for r in rows]


@router.get("/incidents/{incident_id}", summary="One incident with its units and timeline")
def read_incident(
    incident_id: int, who: Watcher, session: DbSession, venue: CurrentVenue
) -> dict[str, Any]:
    try:
        row = incidents.get_incident(session, incident_id=incident_id)
    except _EXPECTED as exc:
        raise _errors(exc) from exc
    plan = venue.context.plans.get(row.type)
    if plan is not None and plan.sensitive:
        # A lost child's description is sensitive personal information: every read is logged.
        with unit_of_work(session):
            audit_read(session, who, "incident", str(row.id), datetime.now(UTC))
    body = incident_json(row)
    body["assignments"] = [
        {
            "unit_id": a.unit_id,
            "status": a.status,
            "eta_s": a.eta_s,
            "reasons": a.reasons,
            "dispatched_at": a.dispatched_at.isoformat(),
        }
        for a in incidents.assignments_of(session, incident_id=incident_id)
    ]
    body["timeline"] = [
        {
            "at": t.at.isoformat(),
            "unit_id": t.unit_id,
            "from": t.from_status,
            "to": t.to_status,
            "actor": t.actor,
        }
        for t in incidents.timeline_of(session, incident_id=incident_id)
    ]
    return body


@router.get("/incidents/{incident_id}/recommendation", summary="Units to send, ranked by ETA")
def read_recommendation(
    incident_id: int,
    who: Dispatcher,
    venue: CurrentVenue,
    session: DbSession,
    now: Now,
    state: State,
) -> dict[str, Any]:
    try:
        row = incidents.get_incident(session, incident_id=incident_id)
        rec = incidents.recommend_for(
            session,
            venue=venue.context,
            incident=row,
            now=now,
            max_age_s=state.settings.position_max_age_s,
            densities=_densities(state, now),
        )
    except _EXPECTED as exc:
        raise _errors(exc) from exc
    return recommendation_json(rec)


@router.post("/incidents/{incident_id}/dispatch", summary="Send units")
def dispatch(
    incident_id: int,
    body: DispatchRequest,
    who: Dispatcher,
    venue: CurrentVenue,
    session: DbSession,
    now: Now,
    state: State,
) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            row = incidents.get_incident(session, incident_id=incident_id)
            if body.accept_recommendation:
                rec = incidents.recommend_for(
                    session,
                    venue=venue.context,
                    incident=row,
                    now=now,
                    max_age_s=state.settings.position_max_age_s,
                    densities=_densities(state, now),
                )
                chosen: list[tuple[str, float | None, list[str]]] = [
                    (p.unit_id, p.eta_s, [r.value for r in p.reasons]) for p in rec.picks
                ]
            else:
                chosen = [(uid, None, ["dispatcher_choice"]) for uid in body.unit_ids]
            created = incidents.dispatch_units(
                session, incident_id=incident_id, units=chosen, actor=who.subject, now=now
            )
            return {"incident_id": incident_id, "dispatched": [a.unit_id for a in created]}
    except _EXPECTED as exc:
        raise _errors(exc) from exc


@router.post("/incidents/{incident_id}/assignments/{unit_id}", summary="A unit's progress")
def update_assignment(
    incident_id: int,
    unit_id: str,
    body: AssignmentUpdate,
    who: Responder,
    session: DbSession,
    now: Now,
) -> dict[str, Any]:
    field_only = not set(who.roles) & set(COMMAND)
    if field_only and who.unit_id != unit_id:
        raise ProblemError(403, "Forbidden", "officers report progress for their own unit only")
    try:
        with unit_of_work(session):
            a = incidents.change_assignment_status(
                session,
                incident_id=incident_id,
                unit_id=unit_id,
                status=AssignmentStatus(body.status),
                actor=who.subject,
                now=now,
            )
            return {"incident_id": incident_id, "unit_id": unit_id, "status": a.status}
    except _EXPECTED as exc:
        raise _errors(exc) from exc


@router.post("/incidents/{incident_id}/close", summary="Close a resolved incident")
def close(incident_id: int, who: Dispatcher, session: DbSession, now: Now) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            return incident_json(
                incidents.close_incident(
                    session, incident_id=incident_id, actor=who.subject, now=now
                )
            )
    except _EXPECTED as exc:
        raise _errors(exc) from exc


@router.post("/incidents/{incident_id}/cancel", summary="Cancel before anyone is on scene")
def cancel(incident_id: int, who: Dispatcher, session: DbSession, now: Now) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            return incident_json(
                incidents.cancel_incident(
                    session, incident_id=incident_id, actor=who.subject, now=now
                )
            )
    except _EXPECTED as exc:
        raise _errors(exc) from exc


@router.get("/incident-types", summary="Incident types and their response plans")
def incident_types(who: Watcher, venue: CurrentVenue) -> list[dict[str, Any]]:
    return [plan.model_dump(mode="json") for plan in venue.context.plans.values()]


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
) -> dict[str, Any]:
    found = metrics.samples(incidents.incident_times(session, since=since))
    return {
        "since": since.isoformat() if since else None,
        "group_by": group_by,
        "intervals": metrics.report(found, group_by),
    }
