"""Community endpoints: communities, liaison groups, coverage, residents' cases, reminders."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lakeguard.api.deps import CurrentVenue, DbSession, Now, State, unit_of_work
from lakeguard.auth.policy import Commander, Dispatcher, require
from lakeguard.auth.roles import COMMAND, WATCH, Principal, Role
from lakeguard.community import cases
from lakeguard.community import service as communities
from lakeguard.community.engine import (
    ActionKind,
    CaseStatus,
    Category,
    Channel,
    Source,
    coverage_by,
    targets,
)
from lakeguard.community.models import (
    CaseDetailRead,
    CaseEntryRead,
    CaseRead,
    CommunityRead,
    CoverageRead,
    CoverageReportRead,
    GroupRead,
    ReminderRead,
    RemindersRead,
)
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


def case_scope(session: Session, who: Principal) -> cases.CaseScope:
    """Dispatchers see every case, field officers their station's, residents their own."""
    if who.roles & WATCH:
        return cases.EVERYTHING
    if Role.FIELD_OFFICER in who.roles:
        unit = session.get(UnitRow, who.unit_id) if who.unit_id else None
        return cases.CaseScope(station_id=unit.station_id if unit else None, unit_id=who.unit_id)
    return cases.CaseScope(resident_user_id=who.user_id if who.user_id is not None else -1)


@router.post("/communities", status_code=201, summary="Register a community")
def create_community(
    body: CommunityCreate, who: Dispatcher, venue: CurrentVenue, session: DbSession, now: Now
) -> CommunityRead:
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
        return CommunityRead.of(row)


@router.get("/communities", summary="Communities, optionally of one station")
def list_communities(
    who: CaseWatcher, session: DbSession, station: str | None = None
) -> list[CommunityRead]:
    return [CommunityRead.of(r) for r in communities.list_communities(session, station=station)]


@router.post("/groups", status_code=201, summary="Register a liaison group")
def create_group(body: GroupCreate, who: Dispatcher, session: DbSession, now: Now) -> GroupRead:
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
        return GroupRead.of(row)


@router.get("/groups", summary="Liaison groups, optionally of a community or station")
def list_groups(
    who: CaseWatcher,
    session: DbSession,
    community_id: int | None = None,
    station: str | None = None,
) -> list[GroupRead]:
    found = communities.list_groups(session, community_id=community_id, station=station)
    return [GroupRead.of(r) for r in found]


@router.get("/coverage", summary="Group members over reachable population, against a target")
def coverage(
    who: CaseWatcher,
    session: DbSession,
    state: State,
    target: Annotated[float | None, Query(gt=0, le=1)] = None,
) -> CoverageReportRead:
    goal = target if target is not None else state.settings.community_coverage_target
    found = coverage_by(communities.community_figures(session), goal)
    return CoverageReportRead.model_validate(
        {"target": goal}
        | {level: [CoverageRead.of(c) for c in rows] for level, rows in found.items()}
    )


# -- cases ------------------------------------------------------------------------------------


@router.post("/cases", status_code=201, summary="A resident's request (group, call, walk-in)")
def open_case(body: CaseCreate, who: Filer, session: DbSession, now: Now) -> CaseRead:
    resident = Role.RESIDENT in who.roles and not who.roles & {*COMMAND, Role.FIELD_OFFICER}
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
        return CaseRead.of(row)


@router.get("/cases", summary="Cases the caller may see: all, the station's, or one's own")
def list_cases(
    who: CaseReader,
    session: DbSession,
    status: Annotated[str | None, Query(description="a status, or 'open'")] = None,
) -> list[CaseRead]:
    found = cases.list_cases(session, scope=case_scope(session, who), status=status)
    return [CaseRead.of(r) for r in found]


@router.get("/cases/{case_id}", summary="One case with its timeline")
def read_case(case_id: int, who: CaseReader, session: DbSession) -> CaseDetailRead:
    row = cases.get_case(session, case_id=case_id, scope=case_scope(session, who))
    timeline = [CaseEntryRead.of(e) for e in cases.timeline_of(session, case_id=case_id)]
    return CaseDetailRead(**CaseRead.of(row).model_dump(), timeline=timeline)


@router.post("/cases/{case_id}/triage", summary="Accept a request as a case")
def triage_case(
    case_id: int, body: Triage, who: Dispatcher, session: DbSession, now: Now
) -> CaseRead:
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
        return CaseRead.of(row)


@router.post("/cases/{case_id}/assign", summary="Give a case to an officer")
def assign_case(
    case_id: int, body: Assign, who: Dispatcher, session: DbSession, now: Now
) -> CaseRead:
    with unit_of_work(session):
        row = cases.assign_case(
            session,
            case_id=case_id,
            officer_unit_id=body.unit_id,
            actor=who.subject,
            now=now,
        )
        return CaseRead.of(row)


@router.post("/cases/{case_id}/actions", status_code=201, summary="A visit, call, mediation, note")
def record_action(
    case_id: int, body: ActionIn, who: Officer, session: DbSession, now: Now
) -> CaseRead:
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
        return CaseRead.of(row)


@router.post("/cases/{case_id}/outcome", summary="Resolve, refer or reject a case")
def conclude_case(
    case_id: int, body: OutcomeIn, who: Officer, session: DbSession, now: Now
) -> CaseRead:
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
        return CaseRead.of(row)


@router.post("/cases/{case_id}/close", summary="Close a concluded case")
def close_case(case_id: int, who: Dispatcher, session: DbSession, now: Now) -> CaseRead:
    with unit_of_work(session):
        row = cases.close_case(session, case_id=case_id, actor=who.subject, now=now)
        return CaseRead.of(row)


@router.post("/cases/{case_id}/feedback", summary="The resident's feedback on a resolved case")
def give_feedback(
    case_id: int, body: FeedbackIn, who: Feedback, session: DbSession, now: Now
) -> CaseRead:
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
        return CaseRead.of(row)


@router.post("/reminders/run", summary="Remind of overdue cases (once per overdue period)")
def run_reminders(who: Commander, session: DbSession, now: Now, state: State) -> RemindersRead:
    goals = targets(state.settings.community_case_targets_h)
    with unit_of_work(session):
        sent = cases.run_reminders(session, now=now, targets_h=goals)
        return RemindersRead(
            sent=[ReminderRead(case_id=r.case_id, period=r.period, status=r.status) for r in sent]
        )
