"""Community endpoints: communities, liaison groups, coverage, residents' cases, reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lakeguard.api.deps import CurrentVenue, DbSession, Now, State, unit_of_work
from lakeguard.api.problems import ProblemError
from lakeguard.auth.policy import Commander, Dispatcher, require
from lakeguard.auth.roles import COMMAND, WATCH, Principal, Role
from lakeguard.community import cases
from lakeguard.community import service as communities
from lakeguard.community.engine import (
    ActionKind,
    CaseStatus,
    Category,
    Channel,
    IllegalTransition,
    Source,
    coverage_by,
    targets,
)
from lakeguard.community.models import CaseRow, CommunityRow, LiaisonGroupRow
from lakeguard.forces.models import UnitRow

router = APIRouter(prefix="/api/v1/community", tags=["community"])

Officer = Annotated[Principal, Depends(require(*COMMAND, Role.FIELD_OFFICER))]
# Cases are followed by the command room, their auditors and the officers who take them up;
# a resident also reads the cases they filed.
CaseWatcher = Annotated[Principal, Depends(require(*WATCH, Role.FIELD_OFFICER))]
CaseReader = Annotated[Principal, Depends(require(*WATCH, Role.FIELD_OFFICER, Role.RESIDENT))]
Filer = Annotated[Principal, Depends(require(*COMMAND, Role.FIELD_OFFICER, Role.RESIDENT))]
Feedback = Annotated[Principal, Depends(require(*COMMAND, Role.RESIDENT))]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommunityCreate(_Body):
    name: str = Field(min_length=1, max_length=128)
    station: str = Field(description="the venue station serving it, e.g. yuemiao")
    registered_population: int = Field(ge=0)
    reachable_population: int = Field(ge=0, description="residents who can be reached at all")


class GroupCreate(_Body):
    community_id: int
    name: str = Field(min_length=1, max_length=128)
    channel: Channel
    members: int = Field(ge=0)
    notify_target: str | None = Field(None, max_length=64, description="a notify/ target name")


class CaseCreate(_Body):
    category: Category
    source: Source
    summary: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    community_id: int | None = None
    group_id: int | None = None
    station: str | None = Field(None, max_length=64)
    resident_name: str = Field("", max_length=64)
    contact: str = Field("", max_length=64)


class Triage(_Body):
    category: Category | None = None
    station: str | None = Field(None, max_length=64)
    note: str = Field("", max_length=2000)


class Assign(_Body):
    unit_id: str = Field(min_length=1, max_length=64, description="the officer's unit")


class ActionIn(_Body):
    kind: ActionKind
    parties: list[str] = Field(default_factory=list, description="for mediation: who took part")
    note: str = Field("", max_length=4000)


class OutcomeIn(_Body):
    outcome: Literal["resolved", "referred", "rejected"]
    detail: str = Field(
        "", max_length=4000, description="the agreement; to whom it was referred; or why not"
    )
    amount_yuan: float | None = Field(None, ge=0, le=1e9, description="settlement, if any")


class FeedbackIn(_Body):
    rating: int = Field(ge=1, le=5)
    text: str = Field("", max_length=2000)


def community_json(row: CommunityRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "station": row.station_id,
        "registered_population": row.registered_population,
        "reachable_population": row.reachable_population,
    }


def group_json(row: LiaisonGroupRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "community_id": row.community_id,
        "name": row.name,
        "channel": row.channel,
        "members": row.members,
        "notify_target": row.notify_target,
    }


def case_json(row: CaseRow) -> dict[str, Any]:
    def at(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": row.id,
        "category": row.category,
        "source": row.source,
        "status": row.status,
        "summary": row.summary,
        "description": row.description,
        "station": row.station_id,
        "community_id": row.community_id,
        "group_id": row.group_id,
        "resident_user_id": row.resident_user_id,
        "resident_name": row.resident_name,
        "officer_unit_id": row.officer_unit_id,
        "received_at": at(row.received_at),
        "assigned_at": at(row.assigned_at),
        "concluded_at": at(row.concluded_at),
        "closed_at": at(row.closed_at),
        "outcome_detail": row.outcome_detail,
        "amount_yuan": row.amount_yuan,
        "feedback": None
        if row.feedback_at is None
        else {"rating": row.feedback_rating, "text": row.feedback_text, "at": at(row.feedback_at)},
    }


def case_scope(session: Session, who: Principal) -> cases.CaseScope:
    """Dispatchers see every case, field officers their station's, residents their own."""
    if who.roles & {Role.ADMIN, Role.COMMANDER, Role.DISPATCHER, Role.AUDITOR}:
        return cases.EVERYTHING
    if Role.FIELD_OFFICER in who.roles:
        unit = session.get(UnitRow, who.unit_id) if who.unit_id else None
        return cases.CaseScope(station_id=unit.station_id if unit else None, unit_id=who.unit_id)
    return cases.CaseScope(resident_user_id=who.user_id if who.user_id is not None else -1)


def _problem(exc: Exception) -> ProblemError:
    if isinstance(exc, LookupError):
        return ProblemError(404, "Not found", str(exc))
    if isinstance(exc, IllegalTransition):
        return ProblemError(409, "Illegal transition", str(exc))
    return ProblemError(422, "Invalid request", str(exc))


_EXPECTED = (LookupError, ValueError)


@router.post("/communities", status_code=201, summary="Register a community")
def create_community(
    body: CommunityCreate, who: Dispatcher, venue: CurrentVenue, session: DbSession, now: Now
) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            row = communities.create_community(
                session,
                venue=venue.scenario,
                name=body.name,
                station_id=body.station,
                registered_population=body.registered_population,
                reachable_population=body.reachable_population,
                now=now,
            )
            return community_json(row)
    except _EXPECTED as exc:
        raise _problem(exc) from exc


@router.get("/communities", summary="Communities, optionally of one station")
def list_communities(
    who: CaseWatcher, session: DbSession, station: str | None = None
) -> list[dict[str, Any]]:
    return [community_json(r) for r in communities.list_communities(session, station=station)]


@router.post("/groups", status_code=201, summary="Register a liaison group")
def create_group(
    body: GroupCreate, who: Dispatcher, session: DbSession, now: Now
) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            row = communities.create_group(
                session,
                community_id=body.community_id,
                name=body.name,
                channel=body.channel,
                members=body.members,
                notify_target=body.notify_target,
                now=now,
            )
            return group_json(row)
    except _EXPECTED as exc:
        raise _problem(exc) from exc


@router.get("/groups", summary="Liaison groups, optionally of a community or station")
def list_groups(
    who: CaseWatcher,
    session: DbSession,
    community_id: int | None = None,
    station: str | None = None,
) -> list[dict[str, Any]]:
    found = communities.list_groups(session, community_id=community_id, station=station)
    return [group_json(r) for r in found]


@router.get("/coverage", summary="Group members over reachable population, against a target")
def coverage(
    who: CaseWatcher,
    session: DbSession,
    state: State,
    target: Annotated[float | None, Query(gt=0, le=1)] = None,
) -> dict[str, Any]:
    goal = target if target is not None else state.settings.community_coverage_target
    found = coverage_by(communities.community_figures(session), goal)
    return {"target": goal} | {
        level: [
            {
                "key": c.key,
                "groups": c.groups,
                "members": c.members,
                "reachable_population": c.reachable,
                "registered_population": c.registered,
                "coverage": round(c.ratio, 4) if c.ratio is not None else None,
                "meets_target": c.meets_target,
                "shortfall": c.shortfall,
            }
            for c in rows
        ]
        for level, rows in found.items()
    }


# -- cases ------------------------------------------------------------------------------------


@router.post("/cases", status_code=201, summary="A resident's request (group, call, walk-in)")
def open_case(body: CaseCreate, who: Filer, session: DbSession, now: Now) -> dict[str, Any]:
    resident = Role.RESIDENT in who.roles and not who.roles & {*COMMAND, Role.FIELD_OFFICER}
    try:
        with unit_of_work(session):
            row = cases.open_case(
                session,
                category=body.category,
                source=Source.APP if resident else body.source,
                summary=body.summary,
                description=body.description,
                station_id=body.station,
                community_id=body.community_id,
                group_id=body.group_id,
                resident_user_id=who.user_id if resident else None,
                resident_name=body.resident_name or (who.subject if resident else ""),
                contact=body.contact,
                actor=who.subject,
                now=now,
            )
            return case_json(row)
    except _EXPECTED as exc:
        raise _problem(exc) from exc


@router.get("/cases", summary="Cases the caller may see: all, the station's, or one's own")
def list_cases(
    who: CaseReader,
    session: DbSession,
    status: Annotated[str | None, Query(description="a status, or 'open'")] = None,
) -> list[dict[str, Any]]:
    try:
        found = cases.list_cases(session, scope=case_scope(session, who), status=status)
    except _EXPECTED as exc:
        raise _problem(exc) from exc
    return [case_json(r) for r in found]


@router.get("/cases/{case_id}", summary="One case with its timeline")
def read_case(case_id: int, who: CaseReader, session: DbSession) -> dict[str, Any]:
    try:
        row = cases.get_case(session, case_id=case_id, scope=case_scope(session, who))
    except _EXPECTED as exc:
        raise _problem(exc) from exc
    timeline = [
        {
            "at": e.at.isoformat(),
            "kind": e.kind,
            "from": e.from_status,
            "to": e.to_status,
            "parties": e.parties,
            "note": e.note,
            "actor": e.actor,
        }
        for e in cases.timeline_of(session, case_id=case_id)
    ]
    return case_json(row) | {"timeline": timeline}


@router.post("/cases/{case_id}/triage", summary="Accept a request as a case")
def triage_case(
    case_id: int, body: Triage, who: Dispatcher, session: DbSession, now: Now
) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            row = cases.triage_case(
                session,
                case_id=case_id,
                category=body.category,
                station_id=body.station,
                note=body.note,
                actor=who.subject,
                now=now,
            )
            return case_json(row)
    except _EXPECTED as exc:
        raise _problem(exc) from exc


@router.post("/cases/{case_id}/assign", summary="Give a case to an officer")
def assign_case(
    case_id: int, body: Assign, who: Dispatcher, session: DbSession, now: Now
) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            if session.get(UnitRow, body.unit_id) is None:
                raise LookupError(f"no unit {body.unit_id!r}")
            row = cases.assign_case(
                session,
                case_id=case_id,
                officer_unit_id=body.unit_id,
                actor=who.subject,
                now=now,
            )
            return case_json(row)
    except _EXPECTED as exc:
        raise _problem(exc) from exc


@router.post("/cases/{case_id}/actions", status_code=201, summary="A visit, call, mediation, note")
def record_action(
    case_id: int, body: ActionIn, who: Officer, session: DbSession, now: Now
) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            row = cases.record_action(
                session,
                case_id=case_id,
                kind=body.kind,
                parties=body.parties,
                note=body.note,
                actor=who.subject,
                now=now,
                scope=case_scope(session, who),
            )
            return case_json(row)
    except _EXPECTED as exc:
        raise _problem(exc) from exc


@router.post("/cases/{case_id}/outcome", summary="Resolve, refer or reject a case")
def conclude_case(
    case_id: int, body: OutcomeIn, who: Officer, session: DbSession, now: Now
) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            row = cases.conclude_case(
                session,
                case_id=case_id,
                outcome=CaseStatus(body.outcome),
                detail=body.detail,
                amount_yuan=body.amount_yuan,
                actor=who.subject,
                now=now,
                scope=case_scope(session, who),
            )
            return case_json(row)
    except _EXPECTED as exc:
        raise _problem(exc) from exc


@router.post("/cases/{case_id}/close", summary="Close a concluded case")
def close_case(case_id: int, who: Dispatcher, session: DbSession, now: Now) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            row = cases.close_case(session, case_id=case_id, actor=who.subject, now=now)
            return case_json(row)
    except _EXPECTED as exc:
        raise _problem(exc) from exc


@router.post("/cases/{case_id}/feedback", summary="The resident's feedback on a resolved case")
def give_feedback(
    case_id: int, body: FeedbackIn, who: Feedback, session: DbSession, now: Now
) -> dict[str, Any]:
    try:
        with unit_of_work(session):
            row = cases.give_feedback(
                session,
                case_id=case_id,
                rating=body.rating,
                text=body.text,
                actor=who.subject,
                now=now,
                scope=case_scope(session, who),
            )
            return case_json(row)
    except _EXPECTED as exc:
        raise _problem(exc) from exc


@router.post("/reminders/run", summary="Remind of overdue cases (once per overdue period)")
def run_reminders(who: Commander, session: DbSession, now: Now, state: State) -> dict[str, Any]:
    try:
        goals = targets(state.settings.community_case_targets_h)
    except ValueError as exc:
        raise ProblemError(500, "Bad configuration", str(exc)) from exc
    with unit_of_work(session):
        sent = cases.run_reminders(session, now=now, targets_h=goals)
        return {
            "sent": [{"case_id": r.case_id, "period": r.period, "status": r.status} for r in sent]
        }
