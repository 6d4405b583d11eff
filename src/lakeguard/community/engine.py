"""The pure core of community policing: the case life cycle, coverage, overdue periods.

A case moves received → triaged → assigned → in_progress → resolved | referred | rejected →
closed. A request may be rejected at triage, referred once triaged, and concluded any time
an officer holds it; the first action an officer records starts the work (in_progress).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from lakeguard.errors import Conflict, Misconfigured


class Category(StrEnum):
    CONSULTATION = "consultation"
    REPORT = "report"
    DISPUTE = "dispute"
    LOST_AND_FOUND = "lost_and_found"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"


class Source(StrEnum):
    GROUP = "group"
    CALL = "call"
    WALK_IN = "walk_in"
    APP = "app"


class Channel(StrEnum):
    """The chat app a liaison group lives in."""

    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"
    WEBHOOK = "webhook"
    EMAIL = "email"
    OTHER = "other"


class CaseStatus(StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REFERRED = "referred"
    REJECTED = "rejected"
    CLOSED = "closed"


class ActionKind(StrEnum):
    VISIT = "visit"
    CALL = "call"
    MEDIATION = "mediation"
    NOTE = "note"


S = CaseStatus
CASE_MOVES: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.RECEIVED: frozenset({S.TRIAGED, S.REJECTED}),
    S.TRIAGED: frozenset({S.ASSIGNED, S.REFERRED, S.REJECTED}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.REFERRED, S.REJECTED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.REFERRED, S.REJECTED}),
    S.RESOLVED: frozenset({S.CLOSED}),
    S.REFERRED: frozenset({S.CLOSED}),
    S.REJECTED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}
OPEN_STATUSES = frozenset({S.RECEIVED, S.TRIAGED, S.ASSIGNED, S.IN_PROGRESS})
OUTCOMES = frozenset({S.RESOLVED, S.REFERRED, S.REJECTED})
# Where an officer works the case: actions other than notes are recorded only there.
WORKING_STATUSES = frozenset({S.ASSIGNED, S.IN_PROGRESS})

# How long a case of each category may stay open before reminders start (hours).
DEFAULT_TARGETS_H: Mapping[Category, float] = {
    Category.CONSULTATION: 48,
    Category.REPORT: 72,
    Category.DISPUTE: 7 * 24,
    Category.LOST_AND_FOUND: 24,
    Category.COMPLAINT: 5 * 24,
    Category.SUGGESTION: 14 * 24,
}
DEFAULT_COVERAGE_TARGET = 0.88


class IllegalTransition(Conflict):
    """A move the case life cycle does not allow; the message says which."""

    title = "Illegal transition"


class InvalidTargets(Misconfigured, ValueError):
    """Case targets in the settings that name no category or are not positive."""


def check_case_move(current: CaseStatus, target: CaseStatus) -> None:
    """Raise :class:`IllegalTransition` unless ``current → target`` is allowed."""
    if target not in CASE_MOVES[current]:
        allowed = ", ".join(sorted(CASE_MOVES[current])) or "nothing (it is final)"
        raise IllegalTransition(
            f"a case cannot go from {current.value} to {target.value}; allowed: {allowed}"
        )


def check_can_act(current: CaseStatus, kind: ActionKind) -> None:
    if current == S.CLOSED or (kind != ActionKind.NOTE and current not in WORKING_STATUSES):
        raise IllegalTransition(
            f"a {kind.value} can be recorded only on an assigned case; this one is {current.value}"
        )


def targets(overrides: Mapping[str, float] | None = None) -> dict[Category, float]:
    """The per-category targets in hours, with overrides (by category name) applied."""
    merged = dict(DEFAULT_TARGETS_H)
    for name, hours in (overrides or {}).items():
        if name not in {c.value for c in Category}:
            known = ", ".join(Category)
            raise InvalidTargets(f"no case category {name!r}; known: {known}")
        if hours <= 0:
            raise InvalidTargets(f"the target of {name!r} must be positive, got {hours}")
        merged[Category(name)] = hours
    return merged


def overdue_period(received_at: datetime, now: datetime, target_h: float) -> int:
    """How many whole targets have passed since the case came in: 0 while it is on time."""
    elapsed = (now - received_at) / timedelta(hours=target_h)
    return max(0, math.floor(elapsed))


# -- coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommunityFigures:
    community_id: int
    name: str
    station_id: str
    venue_id: str
    registered: int
    reachable: int
    members: int
    groups: int


@dataclass(frozen=True)
class Coverage:
    """Members of liaison groups over the population that can be reached."""

    key: str
    groups: int
    members: int
    reachable: int
    registered: int
    target: float

    @property
    def ratio(self) -> float | None:
        return self.members / self.reachable if self.reachable else None

    @property
    def meets_target(self) -> bool:
        return self.ratio is not None and self.ratio >= self.target

    @property
    def shortfall(self) -> int:
        """Members still needed to reach the target (0 when it is met)."""
        return max(0, math.ceil(self.target * self.reachable - 1e-9) - self.members)


def coverage(key: str, rows: Iterable[CommunityFigures], target: float) -> Coverage:
    rows = list(rows)
    return Coverage(
        key=key,
        groups=sum(r.groups for r in rows),
        members=sum(r.members for r in rows),
        reachable=sum(r.reachable for r in rows),
        registered=sum(r.registered for r in rows),
        target=target,
    )


def coverage_by(rows: Iterable[CommunityFigures], target: float) -> dict[str, list[Coverage]]:
    """Coverage per community, per station and per venue."""
    rows = list(rows)
    stations: dict[str, list[CommunityFigures]] = {}
    venues: dict[str, list[CommunityFigures]] = {}
    for r in rows:
        stations.setdefault(r.station_id, []).append(r)
        venues.setdefault(r.venue_id, []).append(r)
    return {
        "communities": [coverage(r.name, [r], target) for r in rows],
        "stations": [coverage(k, v, target) for k, v in sorted(stations.items())],
        "venues": [coverage(k, v, target) for k, v in sorted(venues.items())],
    }
