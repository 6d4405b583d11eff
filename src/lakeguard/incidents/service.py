"""Incident actions: each writes the state, its timeline entry and its events in one go.

Actions run inside the caller's transaction (``with transaction(sessions) as session``); the
outbox rows they add are committed with the state, never without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from lakeguard.errors import Invalid, NotFound
from lakeguard.forces.service import change_unit_status, dispatchable_units, unit_kinds
from lakeguard.incidents.engine import Candidate, CandidatePool, Recommendation, recommend
from lakeguard.incidents.events import (
    AssignmentStatusChanged,
    IncidentCreated,
    IncidentStatusChanged,
)
from lakeguard.incidents.gazetteer import Gazetteer
from lakeguard.incidents.metrics import AssignmentTimes, IncidentTimes
from lakeguard.incidents.models import AssignmentRow, IncidentRow, TimelineRow
from lakeguard.incidents.states import (
    ASSIGNMENT_MOVES,
    OPEN_STATUSES,
    AssignmentStatus,
    IllegalTransition,
    IncidentStatus,
    check_assignment_move,
    check_can_cancel,
    check_can_close,
    check_can_dispatch,
    incident_status_after,
)
from lakeguard.store.outbox import emit
from lakeguard.store.session import get_or_raise
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.plans import ResponsePlan
from lakeguard.venue.reach import Fleet

# Expected turnouts are learnt again from the history at most this often (venue seconds).
TURNOUT_REFRESH_S = 600.0
SOURCES = ("phone", "walk_in", "patrol", "sensor_alert", "resident_group", "app")

# What a unit's own status becomes as its assignment moves.
UNIT_STATUS_FOR = {
    AssignmentStatus.DISPATCHED: "assigned",
    AssignmentStatus.ACKNOWLEDGED: "en_route",
    AssignmentStatus.ON_SCENE: "on_scene",
    AssignmentStatus.RESOLVED: "available",
    AssignmentStatus.CANCELLED: "available",
}


class IncidentNotFound(NotFound):
    pass


class UnknownIncidentType(Invalid):
    title = "Unknown incident type"

    def __init__(self, code: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown incident type {code!r}; known: {', '.join(known)}", field="type")


@dataclass(frozen=True)
class VenueContext:
    """What incident actions need of the venue: its scenario, network, gazetteer and plans."""

    scenario: Scenario
    network: TravelNetwork
    gazetteer: Gazetteer
    # The last fleet placed on the network and the positions it was placed from: snapping two
    # thousand units costs tens of milliseconds, and positions change far less often than
    # dispatchers ask for recommendations. Ages and statuses are not part of the key.
    _fleet: list[tuple[tuple[tuple[str, str, float | None, float | None], ...], Fleet]] = field(
        default_factory=list, compare=False
    )

    _turnout: list[tuple[datetime, dict[str, tuple[float, float]]]] = field(
        default_factory=list, compare=False
    )

    @cached_property
    def beats(self) -> dict[str, tuple[tuple[float, float], ...]]:
        """Each segment post's line (lon/lat): where a unit patrolling it may be."""
        return {
            p.id: tuple((float(x), float(y)) for x, y, *_ in p.geometry["coordinates"])
            for p in self.scenario.posts
            if p.kind == "segment"
        }

    def turnouts(
        self, now: datetime, learn: Callable[[], dict[str, tuple[float, float]]]
    ) -> dict[str, tuple[float, float]]:
        """The expected turnouts by kind, learnt again at most every ``TURNOUT_REFRESH_S``."""
        cached = self._turnout[0] if self._turnout else None
        if cached is not None and abs((now - cached[0]).total_seconds()) < TURNOUT_REFRESH_S:
            return cached[1]
        found = learn()
        self._turnout[:] = [(now, found)]
        return found

    def pool_for(self, candidates: Sequence[Candidate]) -> CandidatePool:
        placed = [c for c in candidates if c.available and c.lon is not None and c.lat is not None]
        key = tuple((c.unit_id, c.mode.value, c.lon, c.lat) for c in placed)
        cached = self._fleet[0] if self._fleet else None
        fleet = cached[1] if cached is not None and cached[0] == key else None
        pool = CandidatePool.place(self.network, candidates, fleet=fleet)
        if fleet is None:
            self._fleet[:] = [(key, pool.fleet)]
        return pool

    @property
    def plans(self) -> Mapping[str, ResponsePlan]:
        return self.scenario.plans.by_code() if self.scenario.plans else {}

    def plan(self, code: str) -> ResponsePlan:
        plans = self.plans
        if code not in plans:
            raise UnknownIncidentType(code, sorted(plans))
        return plans[code]

    def locate(self, lon: float, lat: float) -> tuple[str | None, str | None]:
        """The area and station a point lies in."""
        point = Point(lon, lat)
        for area in self.scenario.areas:
            if area.shape.covers(point):
                return area.id, area.station
        for station in self.scenario.stations:
            if station.shape.covers(point):
                return None, station.id
        return None, None


def _timeline(
    session: Session,
    incident: IncidentRow,
    *,
    unit_id: str | None,
    previous: str | None,
    status: str,
    actor: str,
    now: datetime,
    note: str = "",
) -> None:
    session.add(
        TimelineRow(
            incident_id=incident.id,
            unit_id=unit_id,
            from_status=previous,
            to_status=status,
            at=now,
            actor=actor,
            note=note,
        )
    )


def create_incident(
    session: Session,
    *,
    venue: VenueContext,
    type: str,
    source: str,
    actor: str,
    now: datetime,
    lon: float | None = None,
    lat: float | None = None,
    place: str | None = None,
    description: str = "",
    caller: Mapping[str, Any] | None = None,
) -> IncidentRow:
    """Record a new incident, located by coordinates or by place name."""
    plan = venue.plan(type)
    if source not in SOURCES:
        raise Invalid(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    if lon is None or lat is None:
        if not place:
            raise Invalid("give either lon and lat, or a place name")
        found = venue.gazetteer.resolve(place)  # raises UnknownPlace with suggestions
        lon, lat, place_label = found.lon, found.lat, f"{place} → {found.name_zh} {found.name_en}"
    else:
        place_label = place or ""
    area_id, station_id = venue.locate(lon, lat)
    incident = IncidentRow(
        venue_id=venue.scenario.id,
        type=plan.code,
        priority=plan.priority,
        status=IncidentStatus.RECEIVED.value,
        source=source,
        lon=lon,
        lat=lat,
        area_id=area_id,
        station_id=station_id,
        place=place_label,
        description=description,
        caller=dict(caller or {}),
        received_at=now,
        closed_at=None,
        created_by=actor,
    )
    session.add(incident)
    session.flush()
    _timeline(
        session, incident, unit_id=None, previous=None, status="received", actor=actor, now=now
    )
    emit(
        session,
        IncidentCreated(
            occurred_at=now,
            incident_id=incident.id,
            type=plan.code,
            priority=plan.priority,
            lon=lon,
            lat=lat,
            area_id=area_id,
            place=place_label,
        ),
    )
    return incident


def get_incident(session: Session, *, incident_id: int, for_update: bool = False) -> IncidentRow:
    missing = IncidentNotFound(f"no incident {incident_id}")
    return get_or_raise(session, IncidentRow, incident_id, missing, for_update=for_update)


def list_incidents(
    session: Session, *, status: str | None = None, since: datetime | None = None, limit: int = 200
) -> list[IncidentRow]:
    query = select(IncidentRow).order_by(IncidentRow.priority, IncidentRow.received_at.desc())
    if status == "open":
        query = query.where(IncidentRow.status.in_([s.value for s in OPEN_STATUSES]))
    elif status:
        query = query.where(IncidentRow.status == status)
    if since is not None:
        query = query.where(IncidentRow.received_at >= since)
    return list(session.scalars(query.limit(limit)))


def assignments_of(session: Session, *, incident_id: int) -> list[AssignmentRow]:
    query = select(AssignmentRow).where(AssignmentRow.incident_id == incident_id)
    return list(session.scalars(query.order_by(AssignmentRow.id)))


def timeline_of(session: Session, *, incident_id: int) -> list[TimelineRow]:
    query = select(TimelineRow).where(TimelineRow.incident_id == incident_id)
    return list(session.scalars(query.order_by(TimelineRow.id)))


def candidates_now(
    session: Session, *, venue: VenueContext, now: datetime, max_age_s: float
) -> list[Candidate]:
    """Every unit as a recommendation candidate, from the forces domain."""
    units = dispatchable_units(session, venue=venue.scenario, now=now, max_age_s=max_age_s)
    beats = venue.beats
    return [
        Candidate(
            unit_id=u.id,
            mode=u.mode,
            capabilities=frozenset(u.capabilities),
            available=u.status == "available",
            lon=u.lon,
            lat=u.lat,
            location_source=u.location_source,
            position_age_s=u.position_age_s,
            kind=u.kind.value,
            speed_ms=u.speed_ms,
            beat=beats.get(u.home_post or "", ()),
        )
        for u in units
    ]


# Turnouts are learnt from this much history, once a kind has enough of them.
TURNOUT_HISTORY = timedelta(days=14)
MIN_TURNOUTS = 10


def expected_turnouts(session: Session, *, now: datetime) -> dict[str, tuple[float, float]]:
    """Each unit kind's turnout (dispatched → acknowledged), p50 and p90 seconds, from the
    platform's own assignments over the last two weeks; kinds with too few are left out."""
    query = select(
        AssignmentRow.unit_id, AssignmentRow.dispatched_at, AssignmentRow.acknowledged_at
    ).where(
        AssignmentRow.acknowledged_at.is_not(None),
        AssignmentRow.dispatched_at >= now - TURNOUT_HISTORY,
    )
    rows = list(session.execute(query))
    if not rows:
        return {}
    kinds = unit_kinds(session, unit_ids={r.unit_id for r in rows})
    by_kind: dict[str, list[float]] = {}
    for unit_id, dispatched, acknowledged in rows:
        if unit_id in kinds and acknowledged is not None:
            took = (acknowledged - dispatched).total_seconds()
            by_kind.setdefault(kinds[unit_id], []).append(took)
    found = {}
    for kind, samples in by_kind.items():
        if len(samples) >= MIN_TURNOUTS:
            p50, p90 = np.percentile(samples, [50, 90])
            found[kind] = (float(p50), float(p90))
    return found


def recommend_for(
    session: Session,
    *,
    venue: VenueContext,
    incident: IncidentRow,
    now: datetime,
    max_age_s: float,
    densities: Mapping[str, float] | None = None,
) -> Recommendation:
    """The units to send to an incident now, with reasons and shortfalls."""
    pool = venue.pool_for(candidates_now(session, venue=venue, now=now, max_age_s=max_age_s))
    turnout = venue.turnouts(now, lambda: expected_turnouts(session, now=now))
    finished = (AssignmentStatus.RESOLVED.value, AssignmentStatus.CANCELLED.value)
    sent = [
        a.unit_id
        for a in assignments_of(session, incident_id=incident.id)
        if a.status not in finished
    ]
    return recommend(
        venue.network,
        pool,
        venue.plan(incident.type),
        (incident.lon, incident.lat),
        densities=densities,
        sent=sent,
        turnout=turnout,
    )


def _set_incident_status(
    session: Session, incident: IncidentRow, status: IncidentStatus, *, actor: str, now: datetime
) -> None:
    if incident.status == status.value:
        return
    previous = incident.status
    incident.status = status.value
    if status in (IncidentStatus.CLOSED, IncidentStatus.CANCELLED):
        incident.closed_at = now
    _timeline(
        session,
        incident,
        unit_id=None,
        previous=previous,
        status=status.value,
        actor=actor,
        now=now,
    )
    emit(
        session,
        IncidentStatusChanged(
            occurred_at=now,
            incident_id=incident.id,
            previous=previous,
            status=status.value,
            actor=actor,
        ),
    )


def dispatch_units(
    session: Session,
    *,
    incident_id: int,
    units: Sequence[tuple[str, float | None, Sequence[str]]],
    actor: str,
    now: datetime,
    eta_p90: Mapping[str, float | None] | None = None,
) -> list[AssignmentRow]:
    """Send units (id, ETA, reasons) to an incident; each unit must be available.

    ``eta_p90`` gives the upper end of each unit's ETA range where the recommendation had one.
    """
    incident = get_incident(session, incident_id=incident_id, for_update=True)
    check_can_dispatch(IncidentStatus(incident.status))
    existing = {a.unit_id for a in assignments_of(session, incident_id=incident_id)}
    if not units:
        raise Invalid("no units to dispatch")
    created = []
    for unit_id, eta, reasons in units:
        if unit_id in existing:
            raise IllegalTransition(f"unit {unit_id} is already assigned to incident {incident_id}")
        change_unit_status(session, unit_id=unit_id, status="assigned", actor=actor, now=now)
        assignment = AssignmentRow(
            incident_id=incident_id,
            unit_id=unit_id,
            status=AssignmentStatus.DISPATCHED.value,
            eta_s=eta,
            eta_p90_s=(eta_p90 or {}).get(unit_id),
            reasons=list(reasons),
            dispatched_at=now,
            acknowledged_at=None,
            on_scene_at=None,
            resolved_at=None,
            cancelled_at=None,
        )
        session.add(assignment)
        _record_assignment_move(session, incident, assignment, previous=None, actor=actor, now=now)
        created.append(assignment)
    session.flush()
    _refresh_incident(session, incident, actor=actor, now=now)
    return created


def _record_assignment_move(
    session: Session,
    incident: IncidentRow,
    assignment: AssignmentRow,
    *,
    previous: str | None,
    actor: str,
    now: datetime,
) -> None:
    """The timeline row and the event of a move the assignment has just made."""
    _timeline(
        session,
        incident,
        unit_id=assignment.unit_id,
        previous=previous,
        status=assignment.status,
        actor=actor,
        now=now,
    )
    emit(
        session,
        AssignmentStatusChanged(
            occurred_at=now,
            incident_id=incident.id,
            unit_id=assignment.unit_id,
            previous=previous,
            status=assignment.status,
            eta_s=assignment.eta_s,
            eta_p90_s=assignment.eta_p90_s,
            actor=actor,
        ),
    )


_STAMP = {
    AssignmentStatus.ACKNOWLEDGED: "acknowledged_at",
    AssignmentStatus.ON_SCENE: "on_scene_at",
    AssignmentStatus.RESOLVED: "resolved_at",
    AssignmentStatus.CANCELLED: "cancelled_at",
}


def change_assignment_status(
    session: Session,
    *,
    incident_id: int,
    unit_id: str,
    status: AssignmentStatus,
    actor: str,
    now: datetime,
) -> AssignmentRow:
    """Move one unit's assignment (acknowledge, arrive, resolve, cancel)."""
    incident = get_incident(session, incident_id=incident_id, for_update=True)
    assignment = session.scalar(
        select(AssignmentRow).where(
            AssignmentRow.incident_id == incident_id, AssignmentRow.unit_id == unit_id
        )
    )
    if assignment is None:
        raise IncidentNotFound(f"unit {unit_id} is not assigned to incident {incident_id}")
    previous = AssignmentStatus(assignment.status)
    check_assignment_move(previous, status)
    assignment.status = status.value
    setattr(assignment, _STAMP[status], now)
    change_unit_status(
        session, unit_id=unit_id, status=UNIT_STATUS_FOR[status], actor=actor, now=now
    )
    _record_assignment_move(
        session, incident, assignment, previous=previous.value, actor=actor, now=now
    )
    session.flush()
    _refresh_incident(session, incident, actor=actor, now=now)
    return assignment


def _refresh_incident(
    session: Session, incident: IncidentRow, *, actor: str, now: datetime
) -> None:
    states = [AssignmentStatus(a.status) for a in assignments_of(session, incident_id=incident.id)]
    after = incident_status_after(IncidentStatus(incident.status), states)
    _set_incident_status(session, incident, after, actor=actor, now=now)


def close_incident(session: Session, *, incident_id: int, actor: str, now: datetime) -> IncidentRow:
    """Close a resolved incident: the dispatcher's last step."""
    incident = get_incident(session, incident_id=incident_id, for_update=True)
    check_can_close(IncidentStatus(incident.status))
    _set_incident_status(session, incident, IncidentStatus.CLOSED, actor=actor, now=now)
    return incident


def cancel_incident(
    session: Session, *, incident_id: int, actor: str, now: datetime
) -> IncidentRow:
    """Cancel an incident before anyone is on scene, standing its units down."""
    incident = get_incident(session, incident_id=incident_id, for_update=True)
    check_can_cancel(IncidentStatus(incident.status))
    for assignment in assignments_of(session, incident_id=incident_id):
        if AssignmentStatus.CANCELLED in ASSIGNMENT_MOVES[AssignmentStatus(assignment.status)]:
            change_assignment_status(
                session,
                incident_id=incident_id,
                unit_id=assignment.unit_id,
                status=AssignmentStatus.CANCELLED,
                actor=actor,
                now=now,
            )
    _set_incident_status(session, incident, IncidentStatus.CANCELLED, actor=actor, now=now)
    return incident


def incident_times(session: Session, *, since: datetime | None = None) -> list[IncidentTimes]:
    """Incidents with their assignments' timestamps, for the response metrics."""
    query = select(IncidentRow).order_by(IncidentRow.id)
    if since is not None:
        query = query.where(IncidentRow.received_at >= since)
    rows = list(session.scalars(query))
    by_incident: dict[int, list[AssignmentTimes]] = {r.id: [] for r in rows}
    if rows:
        found = session.scalars(
            select(AssignmentRow).where(AssignmentRow.incident_id.in_(list(by_incident)))
        )
        for a in found:
            by_incident[a.incident_id].append(
                AssignmentTimes(a.unit_id, a.dispatched_at, a.acknowledged_at, a.on_scene_at)
            )
    return [
        IncidentTimes(r.id, r.type, r.area_id, r.station_id, r.received_at, by_incident[r.id])
        for r in rows
    ]


def busy_periods(
    session: Session, *, start: datetime, end: datetime
) -> dict[str, list[tuple[datetime, datetime]]]:
    """Each unit's dispatches overlapping [start, end): dispatched until resolved, cancelled,
    or ``end`` when still open."""
    query = select(
        AssignmentRow.unit_id,
        AssignmentRow.dispatched_at,
        AssignmentRow.resolved_at,
        AssignmentRow.cancelled_at,
    ).where(AssignmentRow.dispatched_at < end)
    found: dict[str, list[tuple[datetime, datetime]]] = {}
    for unit_id, dispatched, resolved, cancelled in session.execute(query):
        until = resolved or cancelled or end
        if until > start:
            found.setdefault(unit_id, []).append((dispatched, until))
    return found
