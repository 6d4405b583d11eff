"""Reads of incidents for the dashboard and the field view, and the one audited read.

The pages read incidents, their assignments and their timeline through here rather than
querying the tables themselves; a sensitive incident (a lost child's description) is read only
through :func:`read_incident`, which logs who read it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lakeguard.auth.audit import audit_read
from lakeguard.auth.roles import Principal
from lakeguard.incidents.models import (
    AssignmentRead,
    AssignmentRow,
    BoardAssignmentRead,
    BoardIncidentRead,
    IncidentDetailRead,
    IncidentRead,
    IncidentRow,
    TimelineEntryRead,
    TimelineRow,
)
from lakeguard.incidents.service import assignments_of, get_incident, timeline_of
from lakeguard.incidents.states import OPEN_STATUSES
from lakeguard.venue.plans import ResponsePlan

# Assignments a unit is still working on.
ACTIVE_ASSIGNMENTS = ("dispatched", "acknowledged", "on_scene")
_OPEN = [s.value for s in OPEN_STATUSES]


def read_incident(
    session: Session, *, incident_id: int, plans: Mapping[str, ResponsePlan], reader: Principal
) -> IncidentRow:
    """An incident, its read logged when its type is sensitive; commit the caller's transaction.

    The audit row carries the wall clock, never the venue clock: a twin's clock runs ahead, and
    the audit trail says when a person really read the record.
    """
    row = get_incident(session, incident_id=incident_id)
    plan = plans.get(row.type)
    if plan is not None and plan.sensitive:
        audit_read(session, reader, "incident", str(row.id), datetime.now(UTC))
    return row


def incident_detail(session: Session, row: IncidentRow) -> IncidentDetailRead:
    """An incident with its assignments and timeline."""
    assignments = [
        AssignmentRead.model_validate(a, from_attributes=True)
        for a in assignments_of(session, incident_id=row.id)
    ]
    timeline = [
        TimelineEntryRead(
            at=t.at, unit_id=t.unit_id, from_=t.from_status, to=t.to_status, actor=t.actor
        )
        for t in timeline_of(session, incident_id=row.id)
    ]
    return IncidentDetailRead(
        **IncidentRead.of(row).model_dump(), assignments=assignments, timeline=timeline
    )


def board(session: Session, *, since: datetime) -> list[BoardIncidentRead]:
    """Open incidents and every incident received since ``since``, with their units."""
    query = select(IncidentRow).where(
        IncidentRow.status.in_(_OPEN) | (IncidentRow.received_at >= since)
    )
    rows = list(session.scalars(query.order_by(IncidentRow.id)))
    found: dict[int, list[BoardAssignmentRead]] = {row.id: [] for row in rows}
    if rows:
        query_a = select(AssignmentRow).where(AssignmentRow.incident_id.in_(list(found)))
        for a in session.scalars(query_a.order_by(AssignmentRow.id)):
            found[a.incident_id].append(BoardAssignmentRead.model_validate(a, from_attributes=True))
    return [
        BoardIncidentRead.model_validate(
            IncidentRead.of(row).model_dump(exclude={"description"})
            | {"assignments": found[row.id]}
        )
        for row in rows
    ]


def count_open(session: Session) -> int:
    query = select(func.count()).where(IncidentRow.status.in_(_OPEN))
    return int(session.scalar(query.select_from(IncidentRow)) or 0)


def count_closed_since(session: Session, *, since: datetime) -> int:
    query = select(func.count()).where(
        IncidentRow.status == "closed", IncidentRow.closed_at >= since
    )
    return int(session.scalar(query.select_from(IncidentRow)) or 0)


def count_resolved_since(session: Session, *, since: datetime, types: Collection[str]) -> int:
    """Incidents of these types whose resolution was recorded since ``since``."""
    query = (
        select(func.count(func.distinct(TimelineRow.incident_id)))
        .join(IncidentRow, IncidentRow.id == TimelineRow.incident_id)
        .where(
            TimelineRow.unit_id.is_(None),
            TimelineRow.to_status == "resolved",
            TimelineRow.at >= since,
            IncidentRow.type.in_(list(types)),
        )
    )
    return int(session.scalar(query) or 0)


def last_received(session: Session, *, types: Collection[str]) -> datetime | None:
    """When the newest incident of these types came in; None when there has been none."""
    query = select(func.max(IncidentRow.received_at)).where(IncidentRow.type.in_(list(types)))
    return session.scalar(query)


def current_assignment(session: Session, *, unit_id: str) -> AssignmentRow | None:
    """The assignment a unit is working now, the newest when there are several."""
    query = (
        select(AssignmentRow)
        .where(AssignmentRow.unit_id == unit_id, AssignmentRow.status.in_(ACTIVE_ASSIGNMENTS))
        .order_by(AssignmentRow.dispatched_at.desc(), AssignmentRow.id.desc())
    )
    return session.scalars(query.limit(1)).first()
