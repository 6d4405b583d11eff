"""Events of the forces domain."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from lakeguard.events import Event
from lakeguard.forces.engine import UnitStatus


class UnitStatusChanged(Event):
    topic: ClassVar[str] = "unit.status"

    unit_id: str
    status: UnitStatus
    label: str | None
    previous: UnitStatus


class UnitPositionReported(Event):
    """A unit's latest position moved (late reports, kept only in history, raise none)."""

    topic: ClassVar[str] = "unit.position"

    unit_id: str
    lon: float
    lat: float
    reported_at: datetime
    stale: bool = False
