"""Unit endpoints: the roster, status, positions, and the OsmAnd / Traccar tracker protocol."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from lakeguard.api.deps import CurrentVenue, DbSession, Now, State, unit_of_work
from lakeguard.auth.policy import Commander, Staff, require
from lakeguard.auth.roles import COMMAND, FIELD, RESPONSE, Principal, Role
from lakeguard.errors import Forbidden
from lakeguard.forces import roster
from lakeguard.forces import service as units
from lakeguard.forces.engine import (
    Capability,
    PositionReport,
    UnitKind,
    UnitStatus,
    post_locations,
)
from lakeguard.forces.labels import status_labels
from lakeguard.forces.models import (
    PositionAccepted,
    PositionIn,
    StatusChange,
    StatusLabelsRead,
    UnitCreate,
    UnitRead,
    UnitRow,
    UnitUpdate,
)
from lakeguard.forces.osmand import (
    DeviceReport,
    ReportError,
    SpeedUnit,
    parse_osmand,
    parse_traccar_json,
)

router = APIRouter(prefix="/api/v1", tags=["units"])

StatusSetter = Annotated[
    Principal,
    Depends(require(Role.DISPATCHER, Role.COMMANDER, *FIELD)),
]
PositionSender = Annotated[Principal, Depends(require(*RESPONSE))]
Tracker = Annotated[
    Principal, Depends(require(Role.DEVICE, scope="positions", allow_query_token=True))
]
# Roles that act for any unit; officers and guards act only for the unit they are.
_ANY_UNIT = COMMAND


def _own_unit_only(who: Principal, unit_id: str) -> None:
    if not who.roles & _ANY_UNIT and who.unit_id != unit_id:
        raise Forbidden(f"you may act for your own unit only, not {unit_id}")


def _read(unit: UnitRow, venue: CurrentVenue, state: State) -> UnitRead:
    posts = post_locations(venue.scenario.posts)
    return units.unit_read(unit, posts, state.clock.now(), state.settings.position_max_age_s)


@router.get("/units/status-labels", summary="Unit states and their display labels")
def read_status_labels(who: Staff) -> StatusLabelsRead:
    return StatusLabelsRead.model_validate(status_labels().as_json())


@router.get("/units", summary="Units of the active venue, with stale flags")
def read_units(
    who: Staff,
    venue: CurrentVenue,
    state: State,
    session: DbSession,
    now: Now,
    status: UnitStatus | None = None,
    kind: UnitKind | None = None,
    station: Annotated[str | None, Query(max_length=64)] = None,
    capability: Capability | None = None,
) -> list[UnitRead]:
    found = units.list_units(
        session, venue_id=venue.scenario.id, status=status, kind=kind, station=station,
        capability=capability,
    )  # fmt: skip
    posts, now = post_locations(venue.scenario.posts), now
    return [units.unit_read(u, posts, now, state.settings.position_max_age_s) for u in found]


@router.post("/units", status_code=201, summary="Add a unit")
def create_unit(
    body: UnitCreate,
    who: Commander,
    venue: CurrentVenue,
    state: State,
    session: DbSession,
    now: Now,
) -> UnitRead:
    with unit_of_work(session):
        unit = roster.create_unit(
            session, venue=venue.scenario, data=body, actor=who.subject, now=now
        )
    return _read(unit, venue, state)


@router.get("/units/{unit_id}", summary="One unit")
def read_unit(
    unit_id: str, who: Staff, venue: CurrentVenue, state: State, session: DbSession
) -> UnitRead:
    return _read(units.get_unit(session, unit_id=unit_id), venue, state)


@router.patch(
    "/units/{unit_id}", summary="Change a unit's name, capabilities, post, shift, tracker"
)
def update_unit(
    unit_id: str,
    body: UnitUpdate,
    who: Commander,
    venue: CurrentVenue,
    state: State,
    session: DbSession,
) -> UnitRead:
    with unit_of_work(session):
        unit = roster.update_unit(session, venue=venue.scenario, unit_id=unit_id, data=body)
    return _read(unit, venue, state)


@router.post("/units/{unit_id}/status", summary="Change a unit's status (and display label)")
def change_status(
    unit_id: str,
    body: StatusChange,
    who: StatusSetter,
    venue: CurrentVenue,
    state: State,
    session: DbSession,
    now: Now,
) -> UnitRead:
    _own_unit_only(who, unit_id)
    with unit_of_work(session):
        unit = units.change_unit_status(
            session, unit_id=unit_id, status=body.status, label=body.label,
            actor=who.subject, now=now,
        )  # fmt: skip
    return _read(unit, venue, state)


@router.post("/units/{unit_id}/positions", summary="Report a unit's position (JSON)")
def post_position(
    unit_id: str, body: PositionIn, who: PositionSender, state: State, session: DbSession
) -> PositionAccepted:
    _own_unit_only(who, unit_id)
    report = PositionReport(
        lat=body.lat, lon=body.lon, reported_at=body.timestamp.astimezone(UTC),
        accuracy_m=body.accuracy_m, speed_ms=body.speed_ms, bearing_deg=body.bearing_deg,
        altitude_m=body.altitude_m, battery=body.battery,
    )  # fmt: skip
    return _record(session, state, unit_id, report, "api")


def _record(
    session: Session, state: State, unit_id: str, report: PositionReport, source: str
) -> PositionAccepted:
    with unit_of_work(session):
        outcome = units.record_position(
            session, unit_id=unit_id, report=report, source=source, now=state.clock.now(),
            max_age_s=state.settings.position_max_age_s,
        )  # fmt: skip
    return PositionAccepted(
        unit_id=outcome.unit_id, reported_at=outcome.reported_at, latest=outcome.latest,
        stale=outcome.stale,
    )  # fmt: skip


async def _raw_body(request: Request) -> bytes:
    # Read first, so the body is cached for whoever reads it next (the token may be a form field).
    return await request.body()


_OSMAND_SUMMARY = "Positions from trackers: OsmAnd query/form, Traccar Client JSON"
_EMPTY_200: dict[int | str, dict[str, Any]] = {200: {"description": "accepted (empty body)"}}


@router.get(
    "/positions/osmand",
    operation_id="osmand_position_get",
    summary=_OSMAND_SUMMARY,
    response_class=Response,
    responses=_EMPTY_200,
)
@router.post(
    "/positions/osmand",
    operation_id="osmand_position_post",
    summary=_OSMAND_SUMMARY,
    response_class=Response,
    responses=_EMPTY_200,
)
def osmand_position(
    body: Annotated[bytes, Depends(_raw_body)],
    who: Tracker,
    request: Request,
    state: State,
    session: DbSession,
    now: Now,
) -> Response:
    device = _device_report(request, body, now, state.settings.osmand_speed_unit)
    unit = units.unit_of_device(session, device_id=device.device_id)
    if unit is None or unit != who.unit_id:
        raise Forbidden(f"device {device.device_id!r} is not the unit this token is for")
    _record(session, state, unit, device.position, device.protocol)
    return Response(status_code=200)


def _device_report(
    request: Request, body: bytes, now: datetime, speed_unit: SpeedUnit
) -> DeviceReport:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type == "application/json":
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise ReportError("body", f"not JSON: {exc}") from None
        return parse_traccar_json(payload, now=now)
    params = list(request.query_params.multi_items())
    if request.method == "POST" and body:
        params += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return parse_osmand(params, now=now, speed_unit=speed_unit)
