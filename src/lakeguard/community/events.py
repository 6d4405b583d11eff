"""Community events, one type per topic."""

from __future__ import annotations

from typing import ClassVar

from lakeguard.events import Event


class CaseStatusChanged(Event):
    """A resident's case moved (``previous`` is None when it was opened).

    ``officer_unit_id`` is set from assignment on, so that notify/ can tell the officer.
    """

    topic: ClassVar[str] = "community.case"
    case_id: int
    station_id: str | None
    category: str
    previous: str | None
    status: str
    officer_unit_id: str | None = None
    actor: str


class CaseReminder(Event):
    """An open case is past its target for the ``period``-th time."""

    topic: ClassVar[str] = "community.reminder"
    case_id: int
    station_id: str | None
    category: str
    status: str
    officer_unit_id: str | None
    period: int
    overdue_s: float
