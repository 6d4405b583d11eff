"""Guards' certificates, joint stations and their members, joint tasks, training sessions."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakeguard.errors import Conflict, Invalid, NotFound
from lakeguard.forces.engine import SHIFT_PATTERN
from lakeguard.forces.models import UnitRow
from lakeguard.security.engine import CertificateKind, TaskType, TrainingType
from lakeguard.security.models import (
    GuardCertificateRow,
    JointStationMemberRow,
    JointStationRow,
    JointTaskRow,
    JointTaskUnitRow,
    TrainingAttendanceRow,
    TrainingSessionRow,
)
from lakeguard.store.session import get_or_raise
from lakeguard.venue.loader import Scenario


class RecordNotFound(NotFound):
    pass


class InvalidRecord(Invalid):
    pass


class RecordExists(Conflict):
    pass


def _units(session: Session, unit_ids: Sequence[str]) -> list[UnitRow]:
    found = {u.id: u for u in session.scalars(select(UnitRow).where(UnitRow.id.in_(unit_ids)))}
    missing = [u for u in unit_ids if u not in found]
    if missing:
        raise InvalidRecord(f"unknown units: {', '.join(missing)}")
    return [found[u] for u in unit_ids]


def add_certificate(
    session: Session,
    *,
    unit_id: str,
    kind: CertificateKind,
    number: str,
    issued_on: date | None,
    expires_on: date | None,
) -> GuardCertificateRow:
    """Record a certificate a guard (a unit of a security company) holds."""
    (unit,) = _units(session, [unit_id])
    if unit.company_id is None:
        raise InvalidRecord(f"{unit_id} is not a guard: it belongs to no security company")
    if issued_on and expires_on and expires_on < issued_on:
        raise InvalidRecord("a certificate cannot expire before it is issued")
    row = GuardCertificateRow(
        unit_id=unit_id,
        kind=CertificateKind(kind).value,
        number=number,
        issued_on=issued_on,
        expires_on=expires_on,
    )
    session.add(row)
    session.flush()
    return row


def list_certificates(session: Session, *, unit_id: str) -> list[GuardCertificateRow]:
    query = select(GuardCertificateRow).where(GuardCertificateRow.unit_id == unit_id)
    return list(session.scalars(query.order_by(GuardCertificateRow.id)))


def create_joint_station(
    session: Session,
    *,
    venue: Scenario,
    joint_station_id: str,
    name: str,
    station_id: str,
    now: datetime,
) -> JointStationRow:
    """Open a police–security joint station at one of the venue's police stations."""
    stations = sorted(s.id for s in venue.stations)
    if station_id not in stations:
        raise InvalidRecord(f"unknown station {station_id!r}; known: {', '.join(stations)}")
    if session.get(JointStationRow, joint_station_id) is not None:
        raise RecordExists(f"a joint station {joint_station_id!r} exists already")
    row = JointStationRow(id=joint_station_id, name=name, station_id=station_id, created_at=now)
    session.add(row)
    session.flush()
    return row


def get_joint_station(session: Session, *, joint_station_id: str) -> JointStationRow:
    missing = RecordNotFound(f"no joint station {joint_station_id!r}")
    return get_or_raise(session, JointStationRow, joint_station_id, missing)


def list_joint_stations(session: Session) -> list[JointStationRow]:
    return list(session.scalars(select(JointStationRow).order_by(JointStationRow.id)))


def attach_units(
    session: Session, *, joint_station_id: str, unit_ids: Sequence[str], now: datetime
) -> list[str]:
    """Attach police units and guards to a joint station; returns the newly attached ids."""
    get_joint_station(session, joint_station_id=joint_station_id)
    _units(session, unit_ids)
    present = set(members_of(session, joint_station_id=joint_station_id))
    added = [u for u in dict.fromkeys(unit_ids) if u not in present]
    for unit_id in added:
        session.add(
            JointStationMemberRow(
                joint_station_id=joint_station_id, unit_id=unit_id, attached_at=now
            )
        )
    session.flush()
    return added


def members_of(session: Session, *, joint_station_id: str) -> list[str]:
    query = select(JointStationMemberRow.unit_id).where(
        JointStationMemberRow.joint_station_id == joint_station_id
    )
    return list(session.scalars(query.order_by(JointStationMemberRow.unit_id)))


def plan_task(
    session: Session,
    *,
    joint_station_id: str,
    type: TaskType,
    on_date: date,
    shift: str,
    unit_ids: Sequence[str],
    actor: str,
    now: datetime,
    place: str = "",
    note: str = "",
) -> JointTaskRow:
    """Plan a joint task for a date and shift with the units that will do it."""
    get_joint_station(session, joint_station_id=joint_station_id)
    if not re.match(SHIFT_PATTERN, shift):
        raise InvalidRecord(f"a shift is 24h or HH:MM-HH:MM, got {shift!r}")
    _units(session, unit_ids)
    row = JointTaskRow(
        joint_station_id=joint_station_id,
        type=TaskType(type).value,
        on_date=on_date,
        shift=shift,
        place=place,
        note=note,
        created_by=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    session.add_all(JointTaskUnitRow(task_id=row.id, unit_id=u) for u in dict.fromkeys(unit_ids))
    session.flush()
    return row


def list_tasks(
    session: Session, *, on_date: date | None = None, joint_station_id: str | None = None
) -> list[tuple[JointTaskRow, list[str]]]:
    """Joint tasks with their units, by date and shift."""
    query = select(JointTaskRow).order_by(JointTaskRow.on_date, JointTaskRow.shift, JointTaskRow.id)
    if on_date is not None:
        query = query.where(JointTaskRow.on_date == on_date)
    if joint_station_id is not None:
        query = query.where(JointTaskRow.joint_station_id == joint_station_id)
    tasks = list(session.scalars(query))
    units: dict[int, list[str]] = defaultdict(list)
    for task_id, unit_id in session.execute(
        select(JointTaskUnitRow.task_id, JointTaskUnitRow.unit_id)
        .where(JointTaskUnitRow.task_id.in_([t.id for t in tasks]))
        .order_by(JointTaskUnitRow.unit_id)
    ):
        units[task_id].append(unit_id)
    return [(t, units[t.id]) for t in tasks]


def record_training(
    session: Session,
    *,
    type: TrainingType,
    held_on: date,
    unit_ids: Sequence[str],
    actor: str,
    now: datetime,
    title: str = "",
    place: str = "",
    joint_station_id: str | None = None,
) -> TrainingSessionRow:
    """Record a training session and who attended it."""
    if joint_station_id is not None:
        get_joint_station(session, joint_station_id=joint_station_id)
    row = TrainingSessionRow(
        joint_station_id=joint_station_id,
        type=TrainingType(type).value,
        held_on=held_on,
        title=title,
        place=place,
        created_by=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    add_attendance(session, session_id=row.id, unit_ids=unit_ids)
    return row


def add_attendance(session: Session, *, session_id: int, unit_ids: Sequence[str]) -> list[str]:
    """Mark units present at a session; returns those not marked before."""
    if session.get(TrainingSessionRow, session_id) is None:
        raise RecordNotFound(f"no training session {session_id}")
    _units(session, unit_ids)
    present = set(
        session.scalars(
            select(TrainingAttendanceRow.unit_id).where(
                TrainingAttendanceRow.session_id == session_id
            )
        )
    )
    added = [u for u in dict.fromkeys(unit_ids) if u not in present]
    session.add_all(TrainingAttendanceRow(session_id=session_id, unit_id=u) for u in added)
    session.flush()
    return added


def list_trainings(session: Session, *, since: date | None = None) -> list[TrainingSessionRow]:
    query = select(TrainingSessionRow).order_by(TrainingSessionRow.held_on, TrainingSessionRow.id)
    if since is not None:
        query = query.where(TrainingSessionRow.held_on >= since)
    return list(session.scalars(query))


def training_inputs(
    session: Session,
) -> tuple[dict[str, list[str]], dict[str, list[date]]]:
    """Guards by company, and the dates each unit trained: the training report's inputs."""
    guards: dict[str, list[str]] = defaultdict(list)
    for unit_id, company_id in session.execute(
        select(UnitRow.id, UnitRow.company_id).where(UnitRow.company_id.is_not(None))
    ):
        guards[str(company_id)].append(unit_id)
    attended: dict[str, list[date]] = defaultdict(list)
    for unit_id, held_on in session.execute(
        select(TrainingAttendanceRow.unit_id, TrainingSessionRow.held_on).join(
            TrainingSessionRow, TrainingSessionRow.id == TrainingAttendanceRow.session_id
        )
    ):
        attended[unit_id].append(held_on)
    return dict(guards), dict(attended)
