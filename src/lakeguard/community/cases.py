"""Residents' cases: each action writes the case, its timeline entry and its event together.

Actions run inside the caller's transaction; the outbox rows they add commit with the state.
Who may see a case is a :class:`CaseScope`, worked out by the caller from the principal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from lakeguard.community.engine import (
    OPEN_STATUSES,
    OUTCOMES,
    ActionKind,
    CaseStatus,
    Category,
    IllegalTransition,
    Source,
    check_can_act,
    check_case_move,
    overdue_period,
)
from lakeguard.community.events import CaseReminder, CaseStatusChanged
from lakeguard.community.models import (
    CaseEntryRow,
    CaseReminderRow,
    CaseRow,
    CommunityRow,
    LiaisonGroupRow,
)
from lakeguard.errors import Invalid, NotFound
from lakeguard.forces.service import UnitNotFound, get_unit
from lakeguard.store.outbox import emit


class CaseNotFound(NotFound):
    pass


class InvalidCase(Invalid):
    pass


@dataclass(frozen=True)
class CaseScope:
    """The cases a caller may see: all, a station's, or a resident's own."""

    everything: bool = False
    station_id: str | None = None
    unit_id: str | None = None
    resident_user_id: int | None = None

    def query(self, query: Select[Any]) -> Select[Any]:
        if self.everything:
            return query
        if self.resident_user_id is not None:
            return query.where(CaseRow.resident_user_id == self.resident_user_id)
        conditions = []
        if self.station_id is not None:
            conditions.append(CaseRow.station_id == self.station_id)
        if self.unit_id is not None:
            conditions.append(CaseRow.officer_unit_id == self.unit_id)
        if not conditions:
            return query.where(false())
        return query.where(or_(*conditions))

    def sees(self, case: CaseRow) -> bool:
        if self.everything:
            return True
        if self.resident_user_id is not None:
            return case.resident_user_id == self.resident_user_id
        return (self.station_id is not None and case.station_id == self.station_id) or (
            self.unit_id is not None and case.officer_unit_id == self.unit_id
        )


EVERYTHING = CaseScope(everything=True)


def _entry(
    session: Session,
    case: CaseRow,
    *,
    kind: str,
    actor: str,
    now: datetime,
    previous: str | None = None,
    status: str | None = None,
    parties: Sequence[str] = (),
    note: str = "",
) -> None:
    session.add(
        CaseEntryRow(
            case_id=case.id,
            kind=kind,
            from_status=previous,
            to_status=status,
            parties=list(parties),
            note=note,
            at=now,
            actor=actor,
        )
    )


def _move(
    session: Session, case: CaseRow, target: CaseStatus, *, actor: str, now: datetime, note: str
) -> None:
    previous = CaseStatus(case.status)
    check_case_move(previous, target)
    case.status = target.value
    _entry(session, case, kind="status", previous=previous, status=target, actor=actor, now=now,
           note=note)  # fmt: skip
    emit(
        session,
        CaseStatusChanged(
            occurred_at=now,
            case_id=case.id,
            station_id=case.station_id,
            category=case.category,
            previous=previous.value,
            status=target.value,
            officer_unit_id=case.officer_unit_id,
            actor=actor,
        ),
    )


def open_case(
    session: Session,
    *,
    category: Category,
    source: Source,
    summary: str,
    actor: str,
    now: datetime,
    description: str = "",
    station_id: str | None = None,
    community_id: int | None = None,
    group_id: int | None = None,
    resident_user_id: int | None = None,
    resident_name: str = "",
    contact: str = "",
) -> CaseRow:
    """Record a resident's request; its station follows its community or group if not given."""
    if group_id is not None:
        group = session.get(LiaisonGroupRow, group_id)
        if group is None:
            raise InvalidCase(f"no liaison group {group_id}")
        community_id = community_id or group.community_id
    if community_id is not None:
        community = session.get(CommunityRow, community_id)
        if community is None:
            raise InvalidCase(f"no community {community_id}")
        station_id = station_id or community.station_id
    case = CaseRow(
        community_id=community_id,
        group_id=group_id,
        station_id=station_id,
        category=Category(category).value,
        source=Source(source).value,
        status=CaseStatus.RECEIVED.value,
        summary=summary,
        description=description,
        resident_user_id=resident_user_id,
        resident_name=resident_name,
        contact=contact,
        received_at=now,
        created_by=actor,
    )
    session.add(case)
    session.flush()
    _entry(session, case, kind="status", status=CaseStatus.RECEIVED, actor=actor, now=now)
    emit(
        session,
        CaseStatusChanged(
            occurred_at=now,
            case_id=case.id,
            station_id=station_id,
            category=case.category,
            previous=None,
            status=case.status,
            actor=actor,
        ),
    )
    return case


def get_case(
    session: Session, *, case_id: int, scope: CaseScope = EVERYTHING, for_update: bool = False
) -> CaseRow:
    """A case the scope may see; one it may not see is reported as missing, not forbidden."""
    query = select(CaseRow).where(CaseRow.id == case_id)
    case = session.scalar(query.with_for_update() if for_update else query)
    if case is None or not scope.sees(case):
        raise CaseNotFound(f"no case {case_id}")
    return case


def list_cases(session: Session, *, scope: CaseScope, status: str | None = None) -> list[CaseRow]:
    """Cases the scope may see, newest first; ``status`` may be a status or ``open``."""
    query = scope.query(select(CaseRow).order_by(CaseRow.received_at.desc(), CaseRow.id.desc()))
    if status == "open":
        query = query.where(CaseRow.status.in_([s.value for s in OPEN_STATUSES]))
    elif status is not None:
        query = query.where(CaseRow.status == CaseStatus(status).value)
    return list(session.scalars(query))


def timeline_of(session: Session, *, case_id: int) -> list[CaseEntryRow]:
    return list(
        session.scalars(
            select(CaseEntryRow).where(CaseEntryRow.case_id == case_id).order_by(CaseEntryRow.id)
        )
    )


def triage_case(
    session: Session,
    *,
    case_id: int,
    actor: str,
    now: datetime,
    category: Category | None = None,
    station_id: str | None = None,
    note: str = "",
) -> CaseRow:
    """Accept a request as a case, correcting its category or station if needed."""
    case = get_case(session, case_id=case_id, for_update=True)
    check_case_move(CaseStatus(case.status), CaseStatus.TRIAGED)
    if category is not None:
        case.category = Category(category).value
    if station_id is not None:
        case.station_id = station_id
    _move(session, case, CaseStatus.TRIAGED, actor=actor, now=now, note=note)
    return case


def assign_case(
    session: Session, *, case_id: int, officer_unit_id: str, actor: str, now: datetime
) -> CaseRow:
    """Give a case to an officer (a unit); again before work starts to reassign it."""
    try:
        get_unit(session, unit_id=officer_unit_id)
    except UnitNotFound:
        raise InvalidCase(f"no unit {officer_unit_id!r}", field="unit_id") from None
    case = get_case(session, case_id=case_id, for_update=True)
    check_case_move(CaseStatus(case.status), CaseStatus.ASSIGNED)
    case.officer_unit_id = officer_unit_id
    case.assigned_at = now
    _move(session, case, CaseStatus.ASSIGNED, actor=actor, now=now, note=officer_unit_id)
    return case


def record_action(
    session: Session,
    *,
    case_id: int,
    kind: ActionKind,
    actor: str,
    now: datetime,
    parties: Sequence[str] = (),
    note: str = "",
    scope: CaseScope = EVERYTHING,
) -> CaseRow:
    """Record a visit, call, mediation session or note; the first one starts the work."""
    case = get_case(session, case_id=case_id, scope=scope, for_update=True)
    kind = ActionKind(kind)
    check_can_act(CaseStatus(case.status), kind)
    if kind == ActionKind.MEDIATION and len(parties) < 2:
        raise InvalidCase("a mediation session needs the parties, at least two")
    _entry(session, case, kind=kind.value, parties=parties, note=note, actor=actor, now=now)
    if case.status == CaseStatus.ASSIGNED and kind != ActionKind.NOTE:
        _move(session, case, CaseStatus.IN_PROGRESS, actor=actor, now=now, note=kind.value)
    return case


def conclude_case(
    session: Session,
    *,
    case_id: int,
    outcome: CaseStatus,
    detail: str,
    actor: str,
    now: datetime,
    amount_yuan: float | None = None,
    scope: CaseScope = EVERYTHING,
) -> CaseRow:
    """Resolve (with the agreement and any amount), refer (to whom) or reject (why) a case."""
    outcome = CaseStatus(outcome)
    if outcome not in OUTCOMES:
        raise InvalidCase(f"an outcome is one of {', '.join(sorted(OUTCOMES))}")
    if amount_yuan is not None and outcome != CaseStatus.RESOLVED:
        raise InvalidCase("only a resolved case carries an amount")
    if outcome != CaseStatus.RESOLVED and not detail:
        raise InvalidCase(f"say {'to whom' if outcome == CaseStatus.REFERRED else 'why'}")
    case = get_case(session, case_id=case_id, scope=scope, for_update=True)
    _move(session, case, outcome, actor=actor, now=now, note=detail)
    case.outcome_detail = detail
    case.amount_yuan = amount_yuan
    case.concluded_at = now
    return case


def close_case(session: Session, *, case_id: int, actor: str, now: datetime) -> CaseRow:
    case = get_case(session, case_id=case_id, for_update=True)
    _move(session, case, CaseStatus.CLOSED, actor=actor, now=now, note="")
    case.closed_at = now
    return case


def give_feedback(
    session: Session,
    *,
    case_id: int,
    rating: int,
    text: str,
    actor: str,
    now: datetime,
    scope: CaseScope = EVERYTHING,
) -> CaseRow:
    """The resident's word on a resolved case, once."""
    case = get_case(session, case_id=case_id, scope=scope, for_update=True)
    resolved = case.status == CaseStatus.RESOLVED or (
        case.status == CaseStatus.CLOSED and _was_resolved(session, case.id)
    )
    if not resolved:
        raise IllegalTransition(f"feedback is for resolved cases; this one is {case.status}")
    if case.feedback_at is not None:
        raise IllegalTransition("feedback on this case was given already")
    case.feedback_rating, case.feedback_text, case.feedback_at = rating, text, now
    _entry(session, case, kind="feedback", note=f"{rating}/5 {text}".strip(), actor=actor, now=now)
    return case


def _was_resolved(session: Session, case_id: int) -> bool:
    return (
        session.scalar(
            select(CaseEntryRow.id).where(
                CaseEntryRow.case_id == case_id,
                CaseEntryRow.to_status == CaseStatus.RESOLVED.value,
            )
        )
        is not None
    )


def run_reminders(
    session: Session, *, now: datetime, targets_h: Mapping[Category, float]
) -> list[CaseReminder]:
    """Remind of every open case past its target, once per case and overdue period."""
    open_cases = session.scalars(
        select(CaseRow)
        .where(CaseRow.status.in_([s.value for s in OPEN_STATUSES]))
        .order_by(CaseRow.id)
    ).all()
    sent = {
        (case_id, period)
        for case_id, period in session.execute(
            select(CaseReminderRow.case_id, CaseReminderRow.period).where(
                CaseReminderRow.case_id.in_([c.id for c in open_cases])
            )
        )
    }
    reminders: list[CaseReminder] = []
    for case in open_cases:
        target = targets_h[Category(case.category)]
        period = overdue_period(case.received_at, now, target)
        if period == 0 or (case.id, period) in sent:
            continue
        overdue_s = (now - case.received_at).total_seconds() - target * 3600
        event = CaseReminder(
            occurred_at=now,
            case_id=case.id,
            station_id=case.station_id,
            category=case.category,
            status=case.status,
            officer_unit_id=case.officer_unit_id,
            period=period,
            overdue_s=overdue_s,
        )
        session.add(
            CaseReminderRow(
                case_id=case.id, period=period, sent_at=now, detail={"target_h": target}
            )
        )
        emit(session, event)
        reminders.append(event)
    return reminders
