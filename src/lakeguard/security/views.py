"""Security-force endpoints: certificates, joint stations, joint tasks, training and its report."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from lakeguard.api.deps import CurrentVenue, DbSession, Now, State, unit_of_work
from lakeguard.auth.policy import Commander, Dispatcher, Staff, Watcher
from lakeguard.forces.engine import SHIFT_PATTERN
from lakeguard.security import service as security
from lakeguard.security.engine import (
    CertificateKind,
    CompanyTraining,
    TaskType,
    TrainingType,
    training_report,
)
from lakeguard.security.models import (
    AttendanceAdded,
    CertificateAdded,
    CertificateRead,
    JointStationRead,
    JointStationRow,
    JointTaskRead,
    JointTaskRow,
    MembersAdded,
    TrainingRead,
    TrainingRecorded,
    TrainingReportRead,
    TrainingSessionRow,
)

router = APIRouter(prefix="/api/v1/security", tags=["security"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CertificateIn(_Body):
    kind: CertificateKind
    number: str = Field("", max_length=64)
    issued_on: date | None = None
    expires_on: date | None = None


class JointStationIn(_Body):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)
    name: str = Field(min_length=1, max_length=128)
    station: str = Field(description="the police station it works from, e.g. liulang")


class UnitsIn(_Body):
    unit_ids: list[str] = Field(min_length=1, description="police units and guards")


class TaskIn(_Body):
    joint_station: str
    type: TaskType
    date: date
    shift: str = Field(pattern=SHIFT_PATTERN, description="24h or HH:MM-HH:MM")
    unit_ids: list[str] = Field(default_factory=list)
    place: str = Field("", max_length=128)
    note: str = Field("", max_length=2000)


class TrainingIn(_Body):
    type: TrainingType
    held_on: date
    unit_ids: list[str] = Field(default_factory=list, description="who attended")
    title: str = Field("", max_length=128)
    place: str = Field("", max_length=128)
    joint_station: str | None = None


def station_json(row: JointStationRow, members: list[str]) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "station": row.station_id, "members": members}


def task_json(row: JointTaskRow, units: list[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "joint_station": row.joint_station_id,
        "type": row.type,
        "date": row.on_date.isoformat(),
        "shift": row.shift,
        "place": row.place,
        "note": row.note,
        "unit_ids": units,
    }


def training_json(row: TrainingSessionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "held_on": row.held_on.isoformat(),
        "title": row.title,
        "place": row.place,
        "joint_station": row.joint_station_id,
    }


@router.post(
    "/guards/{unit_id}/certificates",
    status_code=201,
    response_model=CertificateAdded,
    summary="Record a certificate",
)
def add_certificate(
    unit_id: str, body: CertificateIn, who: Commander, session: DbSession
) -> dict[str, Any]:
    with unit_of_work(session):
        row = security.add_certificate(
            session,
            unit_id=unit_id,
            kind=body.kind,
            number=body.number,
            issued_on=body.issued_on,
            expires_on=body.expires_on,
        )
        return {"id": row.id, "unit_id": unit_id, "kind": row.kind, "number": row.number}


@router.get(
    "/guards/{unit_id}/certificates",
    response_model=list[CertificateRead],
    summary="A guard's certificates",
)
def list_certificates(unit_id: str, who: Staff, session: DbSession) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "kind": c.kind,
            "number": c.number,
            "issued_on": c.issued_on.isoformat() if c.issued_on else None,
            "expires_on": c.expires_on.isoformat() if c.expires_on else None,
        }
        for c in security.list_certificates(session, unit_id=unit_id)
    ]


@router.post(
    "/joint-stations",
    status_code=201,
    response_model=JointStationRead,
    summary="Open a police–security joint station",
)
def create_joint_station(
    body: JointStationIn, who: Commander, venue: CurrentVenue, session: DbSession, now: Now
) -> dict[str, Any]:
    with unit_of_work(session):
        row = security.create_joint_station(
            session,
            venue=venue.scenario,
            joint_station_id=body.id,
            name=body.name,
            station_id=body.station,
            now=now,
        )
        return station_json(row, [])


@router.get(
    "/joint-stations",
    response_model=list[JointStationRead],
    summary="Joint stations with their members",
)
def list_joint_stations(who: Staff, session: DbSession) -> list[dict[str, Any]]:
    return [
        station_json(r, security.members_of(session, joint_station_id=r.id))
        for r in security.list_joint_stations(session)
    ]


@router.post(
    "/joint-stations/{joint_station_id}/members",
    response_model=MembersAdded,
    summary="Attach units and guards",
)
def attach_units(
    joint_station_id: str, body: UnitsIn, who: Commander, session: DbSession, now: Now
) -> dict[str, Any]:
    with unit_of_work(session):
        added = security.attach_units(
            session, joint_station_id=joint_station_id, unit_ids=body.unit_ids, now=now
        )
        row = security.get_joint_station(session, joint_station_id=joint_station_id)
        members = security.members_of(session, joint_station_id=joint_station_id)
        return station_json(row, members) | {"added": added}


@router.post(
    "/tasks",
    status_code=201,
    response_model=JointTaskRead,
    summary="Plan a joint task for a date and shift",
)
def plan_task(body: TaskIn, who: Dispatcher, session: DbSession, now: Now) -> dict[str, Any]:
    with unit_of_work(session):
        row = security.plan_task(
            session,
            joint_station_id=body.joint_station,
            type=body.type,
            on_date=body.date,
            shift=body.shift,
            unit_ids=body.unit_ids,
            place=body.place,
            note=body.note,
            actor=who.subject,
            now=now,
        )
        return task_json(row, list(dict.fromkeys(body.unit_ids)))


@router.get("/tasks", response_model=list[JointTaskRead], summary="Joint tasks, by date and shift")
def list_tasks(
    who: Staff,
    session: DbSession,
    on: Annotated[date | None, Query(alias="date")] = None,
    joint_station: str | None = None,
) -> list[dict[str, Any]]:
    found = security.list_tasks(session, on_date=on, joint_station_id=joint_station)
    return [task_json(t, units) for t, units in found]


@router.post(
    "/training",
    status_code=201,
    response_model=TrainingRecorded,
    summary="Record a training session and attendance",
)
def record_training(
    body: TrainingIn, who: Commander, session: DbSession, now: Now
) -> dict[str, Any]:
    with unit_of_work(session):
        row = security.record_training(
            session,
            type=body.type,
            held_on=body.held_on,
            unit_ids=body.unit_ids,
            title=body.title,
            place=body.place,
            joint_station_id=body.joint_station,
            actor=who.subject,
            now=now,
        )
        return training_json(row) | {"attended": list(dict.fromkeys(body.unit_ids))}


@router.get("/training", response_model=list[TrainingRead], summary="Training sessions")
def list_trainings(
    who: Staff, session: DbSession, since: date | None = None
) -> list[dict[str, Any]]:
    return [training_json(r) for r in security.list_trainings(session, since=since)]


@router.post(
    "/training/{session_id}/attendance",
    response_model=AttendanceAdded,
    summary="Mark units present at a session",
)
def add_attendance(
    session_id: int, body: UnitsIn, who: Commander, session: DbSession
) -> dict[str, Any]:
    with unit_of_work(session):
        added = security.add_attendance(session, session_id=session_id, unit_ids=body.unit_ids)
        return {"session_id": session_id, "added": added}


@router.get(
    "/training/report",
    response_model=TrainingReportRead,
    summary="Per company: guards trained this month, and overdue",
)
def report(
    who: Watcher,
    session: DbSession,
    state: State,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-05"])],
    overdue_days: Annotated[int | None, Query(ge=1, le=366)] = None,
) -> dict[str, Any]:
    days = overdue_days or state.settings.training_overdue_days
    guards, attended = security.training_inputs(session)
    found = training_report(guards, attended, month, days)
    return {"month": month, "overdue_days": days, "companies": [report_json(c) for c in found]}


def report_json(c: CompanyTraining) -> dict[str, Any]:
    return {
        "company": c.company_id,
        "guards": c.guards,
        "trained": len(c.trained),
        "overdue": len(c.overdue),
        "trained_share": round(c.trained_share, 4) if c.trained_share is not None else None,
        "overdue_units": list(c.overdue),
    }
