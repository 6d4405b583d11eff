"""Units at work: reading them, moving their status, recording positions, locating them.

These are the functions other domains call (incidents dispatches through
:func:`change_unit_status` and recommends from :func:`dispatchable_units`). Each writes in
the caller's transaction; the caller commits.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakeguard.errors import NotFound
from lakeguard.forces.engine import (
    Capability,
    PositionReport,
    UnitKind,
    UnitState,
    UnitStatus,
    check_report_time,
    check_transition,
    dispatch_location,
    position_age_s,
    post_locations,
    supersedes,
)
from lakeguard.forces.events import UnitPositionReported, UnitStatusChanged
from lakeguard.forces.labels import check_label
from lakeguard.forces.models import (
    LocationRead,
    PositionRead,
    UnitPositionRow,
    UnitRead,
    UnitRow,
    UnitStatusRow,
)
from lakeguard.store.outbox import emit
from lakeguard.store.session import get_or_raise
from lakeguard.venue.loader import Scenario
from lakeguard.venue.schema import Mode


class UnitNotFound(NotFound):
    """No unit with that id (or device id)."""

    title = "Unit not found"


def get_unit(session: Session, *, unit_id: str, for_update: bool = False) -> UnitRow:
    """A unit by id; ``for_update`` locks its row until the transaction ends (PostgreSQL)."""
    missing = UnitNotFound(f"no unit {unit_id!r}")
    return get_or_raise(session, UnitRow, unit_id, missing, for_update=for_update)


def get_unit_by_device(session: Session, *, device_id: str) -> UnitRow:
    """The unit a tracker id is mapped to."""
    unit = session.scalar(select(UnitRow).where(UnitRow.device_id == device_id))
    if unit is None:
        raise UnitNotFound(f"no unit has the device id {device_id!r}")
    return unit


def unit_of_device(session: Session, *, device_id: str) -> str | None:
    """The id of the unit a tracker id is mapped to, if any."""
    return session.scalar(select(UnitRow.id).where(UnitRow.device_id == device_id))


def list_units(
    session: Session,
    *,
    venue_id: str,
    status: UnitStatus | None = None,
    kind: UnitKind | None = None,
    station: str | None = None,
    capability: Capability | None = None,
) -> list[UnitRow]:
    """A venue's units, by callsign, optionally filtered."""
    query = select(UnitRow).where(UnitRow.venue_id == venue_id).order_by(UnitRow.callsign)
    if status is not None:
        query = query.where(UnitRow.status == UnitStatus(status).value)
    if kind is not None:
        query = query.where(UnitRow.kind == UnitKind(kind).value)
    if station is not None:
        query = query.where(UnitRow.station_id == station)
    units = list(session.scalars(query))
    # Capabilities are a JSON list; matching one in Python keeps the query portable.
    if capability is not None:
        units = [u for u in units if Capability(capability).value in u.capabilities]
    return units


def change_unit_status(
    session: Session,
    *,
    unit_id: str,
    status: UnitStatus | str,
    label: str | None = None,
    actor: str,
    now: datetime,
) -> UnitRow:
    """Move a unit to a status (optionally with a display label), in the caller's transaction.

    Writes the unit, a status history row and a ``unit.status`` event together. Raises
    :class:`~lakeguard.forces.engine.InvalidTransition` for a change the table forbids and
    :class:`~lakeguard.forces.labels.InvalidLabel` for a label of another status. Asking for
    the status and label the unit already has changes nothing and records nothing.
    """
    status = UnitStatus(status)
    check_label(status, label)
    unit = get_unit(session, unit_id=unit_id, for_update=True)
    previous = UnitStatus(unit.status)
    check_transition(previous, status)
    if previous == status and unit.status_label == label:
        return unit
    unit.status, unit.status_label, unit.status_changed_at = status.value, label, now
    session.add(status_row(unit, previous=previous.value, actor=actor, now=now))
    emit(
        session,
        UnitStatusChanged(
            occurred_at=now, unit_id=unit.id, status=status, label=label, previous=previous
        ),
    )
    session.flush()
    return unit


def status_row(unit: UnitRow, *, previous: str | None, actor: str, now: datetime) -> UnitStatusRow:
    """The history row recording a unit's current status."""
    return UnitStatusRow(
        unit_id=unit.id,
        status=unit.status,
        label=unit.status_label,
        previous=previous,
        actor=actor,
        changed_at=now,
    )


def status_history(session: Session, *, unit_id: str) -> list[UnitStatusRow]:
    """A unit's status changes, oldest first."""
    query = select(UnitStatusRow).where(UnitStatusRow.unit_id == unit_id)
    return list(session.scalars(query.order_by(UnitStatusRow.id)))


@dataclass(frozen=True)
class PositionOutcome:
    unit_id: str
    reported_at: datetime
    latest: bool  # False: an older report that arrived late, kept in history only
    stale: bool  # already older than the staleness limit when it arrived


def record_position(
    session: Session,
    *,
    unit_id: str,
    report: PositionReport,
    source: str,
    now: datetime,
    max_age_s: float,
) -> PositionOutcome:
    """Keep a reported position in the unit's track and, unless it arrived late, as its latest.

    Raises :class:`~lakeguard.forces.engine.FuturePosition` for a time too far ahead of
    ``now``. Only a report that becomes the latest raises a ``unit.position`` event.
    """
    check_report_time(report.reported_at, now)
    unit = get_unit(session, unit_id=unit_id, for_update=True)
    latest = supersedes(report.reported_at, unit.reported_at)
    stale = position_age_s(report.reported_at, now) > max_age_s
    session.add(position_row(unit.id, report, source=source, now=now, late=not latest))
    if latest:
        unit.lat, unit.lon, unit.reported_at = report.lat, report.lon, report.reported_at
        unit.accuracy_m, unit.speed_ms = report.accuracy_m, report.speed_ms
        unit.bearing_deg, unit.battery = report.bearing_deg, report.battery
        emit(
            session,
            UnitPositionReported(
                occurred_at=now,
                unit_id=unit.id,
                lon=report.lon,
                lat=report.lat,
                reported_at=report.reported_at,
                stale=stale,
            ),
        )
    session.flush()
    return PositionOutcome(unit.id, report.reported_at, latest, stale)


def position_row(
    unit_id: str, report: PositionReport, *, source: str, now: datetime, late: bool = False
) -> UnitPositionRow:
    """The track row of one report."""
    return UnitPositionRow(
        unit_id=unit_id,
        lat=report.lat,
        lon=report.lon,
        reported_at=report.reported_at,
        received_at=now,
        accuracy_m=report.accuracy_m,
        speed_ms=report.speed_ms,
        bearing_deg=report.bearing_deg,
        altitude_m=report.altitude_m,
        battery=report.battery,
        source=source,
        late=late,
        attributes=dict(report.attributes),
    )


def track(session: Session, *, unit_id: str, limit: int = 1000) -> list[UnitPositionRow]:
    """A unit's reported positions in the order they were taken, latest last."""
    query = (
        select(UnitPositionRow)
        .where(UnitPositionRow.unit_id == unit_id)
        .order_by(UnitPositionRow.reported_at.desc(), UnitPositionRow.id.desc())
        .limit(limit)
    )
    return list(reversed(session.scalars(query).all()))


def unit_kinds(session: Session, *, unit_ids: Collection[str]) -> dict[str, str]:
    """The kind of each of these units (unknown ids are left out)."""
    query = select(UnitRow.id, UnitRow.kind).where(UnitRow.id.in_(list(unit_ids)))
    return {unit_id: kind for unit_id, kind in session.execute(query)}


def positions_between(
    session: Session, *, start: datetime, end: datetime
) -> dict[str, list[tuple[datetime, float, float]]]:
    """Every unit's reported positions taken in [start, end), as (time, lon, lat) in order."""
    query = (
        select(UnitPositionRow.unit_id, UnitPositionRow.reported_at, UnitPositionRow.lon,
               UnitPositionRow.lat)
        .where(UnitPositionRow.reported_at >= start, UnitPositionRow.reported_at < end)
        .order_by(UnitPositionRow.unit_id, UnitPositionRow.reported_at, UnitPositionRow.id)
    )  # fmt: skip
    found: dict[str, list[tuple[datetime, float, float]]] = {}
    for unit_id, at, lon, lat in session.execute(query):
        found.setdefault(unit_id, []).append((at, lon, lat))
    return found


# What dispatch needs of a unit, read as plain columns: no ORM objects for 2,000 rows.
_STATE_COLUMNS = (
    UnitRow.id, UnitRow.callsign, UnitRow.kind, UnitRow.mode, UnitRow.capabilities,
    UnitRow.status, UnitRow.station_id, UnitRow.company_id, UnitRow.home_post_id,
    UnitRow.lon, UnitRow.lat, UnitRow.reported_at, UnitRow.speed_ms,
)  # fmt: skip


def dispatchable_units(
    session: Session,
    *,
    venue: Scenario,
    now: datetime,
    max_age_s: float,
    statuses: Collection[UnitStatus] | None = None,
) -> list[UnitState]:
    """Every locatable unit of a venue (of the given statuses; default all), for dispatch.

    One query over the columns it needs; home posts come from the scenario in memory. A
    unit that has neither a position nor a home post cannot be located and is left out.
    """
    query = select(*_STATE_COLUMNS).where(UnitRow.venue_id == venue.id).order_by(UnitRow.id)
    if statuses is not None:
        query = query.where(UnitRow.status.in_([UnitStatus(s).value for s in statuses]))
    posts = post_locations(venue.posts)
    # Enum lookups by value, and one frozenset per distinct capability list: building them
    # afresh for each of two thousand rows was most of this function's time.
    kinds, modes, statuses_by_value = _by_value(UnitKind), _by_value(Mode), _by_value(UnitStatus)
    capability_sets: dict[tuple[str, ...], frozenset[Capability]] = {}
    states = []
    for row in session.execute(query):
        location = dispatch_location(row, posts, now, max_age_s)
        if location is None:
            continue
        age = None if row.reported_at is None else position_age_s(row.reported_at, now)
        states.append(
            UnitState(
                id=row.id,
                callsign=row.callsign,
                kind=kinds[row.kind],
                mode=modes[row.mode],
                capabilities=_capability_set(capability_sets, row.capabilities),
                status=statuses_by_value[row.status],
                station=row.station_id,
                lon=location.lon,
                lat=location.lat,
                location_source=location.source,
                stale=age is None or age > max_age_s,
                position_age_s=age,
                home_post=row.home_post_id,
                company=row.company_id,
                location_reason=location.reason,
                speed_ms=row.speed_ms,
            )
        )
    return states


E = TypeVar("E", bound=StrEnum)


def _by_value(enum: type[E]) -> dict[str, E]:
    return {member.value: member for member in enum}


def _capability_set(
    cache: dict[tuple[str, ...], frozenset[Capability]], listed: Sequence[str]
) -> frozenset[Capability]:
    key = tuple(listed)
    found = cache.get(key)
    if found is None:
        found = cache[key] = frozenset(Capability(c) for c in key)
    return found


def unit_read(
    unit: UnitRow, posts: Mapping[str, tuple[float, float]], now: datetime, max_age_s: float
) -> UnitRead:
    """A unit as the API shows it, with its staleness and where dispatch assumes it is."""
    position = age = None
    if unit.lat is not None and unit.lon is not None and unit.reported_at is not None:
        age = position_age_s(unit.reported_at, now)
        position = PositionRead(
            lat=unit.lat, lon=unit.lon, reported_at=unit.reported_at, accuracy_m=unit.accuracy_m,
            speed_ms=unit.speed_ms, bearing_deg=unit.bearing_deg, battery=unit.battery,
        )  # fmt: skip
    location = dispatch_location(unit, posts, now, max_age_s)
    return UnitRead(
        id=unit.id, callsign=unit.callsign, name=unit.name, kind=unit.kind, mode=unit.mode,
        capabilities=unit.capabilities, station=unit.station_id, company=unit.company_id,
        home_post=unit.home_post_id, shift=unit.shift, device_id=unit.device_id,
        status=unit.status, status_label=unit.status_label,
        status_changed_at=unit.status_changed_at, position=position,
        stale=age is None or age > max_age_s, position_age_s=age,
        location=LocationRead(**location._asdict()) if location else None,
    )  # fmt: skip
