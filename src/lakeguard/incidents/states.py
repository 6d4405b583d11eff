"""The incident and assignment timelines as state machines (pure).

An incident moves received → dispatched → acknowledged → on_scene → resolved → closed, and
may be cancelled before anyone is on scene. Each unit sent to it has an assignment that moves
dispatched → acknowledged (en route) → on_scene → resolved, or is cancelled before arrival.
The incident's progress follows its assignments: it is acknowledged when the first unit is en
route, on scene when the first unit arrives, resolved when every unit still on it has
resolved; closing is the dispatcher's explicit last step.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from lakeguard.errors import Conflict


class IncidentStatus(StrEnum):
    RECEIVED = "received"
    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class AssignmentStatus(StrEnum):
    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


ASSIGNMENT_MOVES: dict[AssignmentStatus, frozenset[AssignmentStatus]] = {
    AssignmentStatus.DISPATCHED: frozenset(
        {AssignmentStatus.ACKNOWLEDGED, AssignmentStatus.CANCELLED}
    ),
    AssignmentStatus.ACKNOWLEDGED: frozenset(
        {AssignmentStatus.ON_SCENE, AssignmentStatus.CANCELLED}
    ),
    AssignmentStatus.ON_SCENE: frozenset({AssignmentStatus.RESOLVED}),
    AssignmentStatus.RESOLVED: frozenset(),
    AssignmentStatus.CANCELLED: frozenset(),
}

INCIDENT_ORDER = (
    IncidentStatus.RECEIVED,
    IncidentStatus.DISPATCHED,
    IncidentStatus.ACKNOWLEDGED,
    IncidentStatus.ON_SCENE,
    IncidentStatus.RESOLVED,
    IncidentStatus.CLOSED,
)
OPEN_STATUSES = frozenset(INCIDENT_ORDER[:4])
_ASSIGNMENT_STAGE = {
    AssignmentStatus.DISPATCHED: IncidentStatus.DISPATCHED,
    AssignmentStatus.ACKNOWLEDGED: IncidentStatus.ACKNOWLEDGED,
    AssignmentStatus.ON_SCENE: IncidentStatus.ON_SCENE,
    AssignmentStatus.RESOLVED: IncidentStatus.ON_SCENE,
}


class IllegalTransition(Conflict):
    """A move the timeline does not allow; the message says which and why."""

    title = "Illegal transition"


def check_assignment_move(current: AssignmentStatus, target: AssignmentStatus) -> None:
    """Raise :class:`IllegalTransition` unless ``current → target`` is allowed."""
    if target not in ASSIGNMENT_MOVES[current]:
        allowed = ", ".join(sorted(ASSIGNMENT_MOVES[current])) or "nothing (it is final)"
        raise IllegalTransition(
            f"an assignment cannot go from {current.value} to {target.value}; allowed: {allowed}"
        )


def check_can_dispatch(incident: IncidentStatus) -> None:
    if incident not in OPEN_STATUSES:
        raise IllegalTransition(f"cannot dispatch units to a {incident.value} incident")


def check_can_cancel(incident: IncidentStatus) -> None:
    if incident not in (
        IncidentStatus.RECEIVED,
        IncidentStatus.DISPATCHED,
        IncidentStatus.ACKNOWLEDGED,
    ):
        raise IllegalTransition(f"a {incident.value} incident cannot be cancelled")


def check_can_close(incident: IncidentStatus) -> None:
    if incident != IncidentStatus.RESOLVED:
        raise IllegalTransition(
            f"only a resolved incident can be closed; this one is {incident.value}"
        )


def incident_status_after(
    current: IncidentStatus, assignments: Iterable[AssignmentStatus]
) -> IncidentStatus:
    """The incident's status once its assignments are as given; it never moves back."""
    if current in (IncidentStatus.CLOSED, IncidentStatus.CANCELLED, IncidentStatus.RESOLVED):
        return current
    states = list(assignments)
    live = [s for s in states if s != AssignmentStatus.CANCELLED]
    if live and all(s == AssignmentStatus.RESOLVED for s in live):
        return IncidentStatus.RESOLVED
    reached = max(
        (INCIDENT_ORDER.index(_ASSIGNMENT_STAGE[s]) for s in live),
        default=INCIDENT_ORDER.index(current),
    )
    return INCIDENT_ORDER[max(reached, INCIDENT_ORDER.index(current))]
