"""The roster: adding and changing units and security companies, and storing a deployment."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lakeguard.errors import Conflict, Invalid
from lakeguard.forces.deployment import CompanySpec, UnitSpec
from lakeguard.forces.engine import Capability, PositionReport, UnitStatus, unit_problems
from lakeguard.forces.models import CompanyRow, UnitCreate, UnitRow, UnitUpdate
from lakeguard.forces.service import get_unit, position_row, status_row
from lakeguard.venue.loader import Scenario


class InvalidUnit(Invalid):
    """A unit that breaks a rule or refers to something that does not exist."""

    title = "Invalid unit"


class UnitClash(Conflict):
    """A unit whose id, callsign or device id another unit holds already."""

    title = "Unit exists"


def list_companies(session: Session) -> list[CompanyRow]:
    return list(session.scalars(select(CompanyRow).order_by(CompanyRow.id)))


def put_company(session: Session, *, company_id: str, name: dict[str, str]) -> CompanyRow:
    """Add a security company, or rename it if it exists."""
    company = session.get(CompanyRow, company_id)
    if company is None:
        company = CompanyRow(id=company_id, name=name)
        session.add(company)
    else:
        company.name = name
    session.flush()
    return company


def create_unit(
    session: Session, *, venue: Scenario, data: UnitCreate, actor: str, now: datetime
) -> UnitRow:
    """Add a unit to a venue, available, with its first status history row."""
    problems = unit_problems(data.kind, data.mode, data.capabilities)
    problems += _reference_problems(session, venue, data.station, data.company, data.home_post)
    clashes = [f"id: a unit {data.id!r} exists already"] if session.get(UnitRow, data.id) else []
    clashes += _uniqueness_problems(session, venue.id, data.callsign, data.device_id)
    if problems:  # every problem at once, so one correction fixes the request
        raise InvalidUnit("; ".join(problems + clashes))
    if clashes:
        raise UnitClash("; ".join(clashes))
    unit = _available_row(
        venue.id, data, name=data.name.model_dump(), device_id=data.device_id, now=now
    )
    session.add(unit)
    session.add(status_row(unit, previous=None, actor=actor, now=now))
    session.flush()
    return unit


# Schema field -> column, for every field update_unit may touch.
_UPDATABLE = {
    "name": "name",
    "capabilities": "capabilities",
    "home_post": "home_post_id",
    "shift": "shift",
    "device_id": "device_id",
}


def update_unit(session: Session, *, venue: Scenario, unit_id: str, data: UnitUpdate) -> UnitRow:
    """Change the fields given in ``data``; an explicit null clears the home post or device id."""
    unit = get_unit(session, unit_id=unit_id, for_update=True)
    given = data.model_fields_set & _UPDATABLE.keys()
    problems = [f"{f}: may not be null" for f in ("name", "capabilities", "shift")
                if f in given and getattr(data, f) is None]  # fmt: skip
    if "home_post" in given and data.home_post is not None:
        problems += _reference_problems(session, venue, None, None, data.home_post)
    if problems:
        raise InvalidUnit("; ".join(problems))
    new_device = "device_id" in given and data.device_id not in (None, unit.device_id)
    if new_device and (
        clashes := _uniqueness_problems(session, unit.venue_id, None, data.device_id)
    ):
        raise UnitClash("; ".join(clashes))
    values: dict[str, Any] = {
        "name": data.name.model_dump() if data.name else None,
        "capabilities": _capability_list(data.capabilities or []),
        "home_post": data.home_post,
        "shift": data.shift,
        "device_id": data.device_id,
    }
    for field in given:
        setattr(unit, _UPDATABLE[field], values[field])
    session.flush()
    return unit


def replace_seeded_units(
    session: Session,
    *,
    venue: Scenario,
    units: Sequence[UnitSpec],
    companies: Iterable[CompanySpec],
    actor: str,
    now: datetime,
) -> int:
    """Store a deployment in place of the venue's earlier seeded units (and their history).

    Units added by hand are kept; a deployment that would reuse one of their ids or
    callsigns is refused. Each unit starts available at its position, reported ``now``.
    """
    for company in companies:
        put_company(session, company_id=company.id, name=company.name)
    session.execute(delete(UnitRow).where(UnitRow.venue_id == venue.id, UnitRow.seeded))
    kept = session.execute(select(UnitRow.id, UnitRow.callsign, UnitRow.venue_id)).all()
    ids = {r.id for r in kept}
    callsigns = {r.callsign for r in kept if r.venue_id == venue.id}
    clashes = [u.id for u in units if u.id in ids or u.callsign in callsigns]
    if clashes:
        raise UnitClash(f"other units already hold these ids or callsigns: {', '.join(clashes)}")
    rows = [_seeded_row(venue.id, spec, now) for spec in units]
    session.add_all(rows)
    session.flush()
    for spec, row in zip(units, rows, strict=True):
        report = PositionReport(lat=spec.lat, lon=spec.lon, reported_at=now)
        session.add(position_row(spec.id, report, source="seed", now=now))
        session.add(status_row(row, previous=None, actor=actor, now=now))
    session.flush()
    return len(rows)


def _seeded_row(venue_id: str, spec: UnitSpec, now: datetime) -> UnitRow:
    row = _available_row(venue_id, spec, name=spec.name, label=spec.label, seeded=True, now=now)
    row.lat, row.lon, row.reported_at = spec.lat, spec.lon, now
    return row


def _available_row(
    venue_id: str,
    spec: UnitCreate | UnitSpec,
    *,
    name: dict[str, str],
    now: datetime,
    device_id: str | None = None,
    label: str | None = None,
    seeded: bool = False,
) -> UnitRow:
    """A new unit's row, available from ``now``, whether created by hand or seeded."""
    return UnitRow(
        id=spec.id,
        venue_id=venue_id,
        callsign=spec.callsign,
        name=name,
        kind=spec.kind.value,
        mode=spec.mode.value,
        capabilities=_capability_list(spec.capabilities),
        station_id=spec.station,
        company_id=spec.company,
        home_post_id=spec.home_post,
        shift=spec.shift,
        device_id=device_id,
        status=UnitStatus.AVAILABLE.value,
        status_label=label,
        status_changed_at=now,
        seeded=seeded,
        created_at=now,
    )


def _capability_list(capabilities: Iterable[Capability]) -> list[str]:
    return sorted({c.value for c in capabilities})


def _reference_problems(
    session: Session,
    venue: Scenario,
    station: str | None,
    company: str | None,
    home_post: str | None,
) -> list[str]:
    problems = []
    if station is not None and station not in {s.id for s in venue.stations}:
        problems.append(f"station: no station {station!r} in venue {venue.id!r}")
    if company is not None and session.get(CompanyRow, company) is None:
        problems.append(f"company: no security company {company!r}")
    if home_post is not None and home_post not in {p.id for p in venue.posts}:
        problems.append(f"home_post: no post {home_post!r} in venue {venue.id!r}")
    return problems


def _uniqueness_problems(
    session: Session, venue_id: str, callsign: str | None, device_id: str | None
) -> list[str]:
    problems = []
    if callsign is not None:
        taken = select(UnitRow.id).where(UnitRow.venue_id == venue_id, UnitRow.callsign == callsign)
        if session.scalar(taken) is not None:
            problems.append(f"callsign: {callsign!r} is taken")
    if device_id is not None:
        owner = session.scalar(select(UnitRow.id).where(UnitRow.device_id == device_id))
        if owner is not None:
            problems.append(f"device_id: {device_id!r} is already mapped to unit {owner!r}")
    return problems
