"""The venue's clock: what "now" means for incidents, positions, observations and alerts.

A deployment runs on the wall clock. A digital twin runs the platform on a clock of its own:
a scaled one (a day in 24 minutes at 60x, for a live demo) or a manual one that the twin sets
before each call (a whole day as fast as the machine allows). Log-ins, tokens and sessions
always use the wall clock: their expiry protects real people.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol

from pydantic import PlainSerializer, WithJsonSchema

# A UTC time as the API writes it: ``datetime.isoformat()`` ("…+00:00"), the form every
# answer has used, rather than pydantic's "…Z".
IsoTime = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Clock(Protocol):
    """Where the venue's time comes from."""

    kind: str

    def now(self) -> datetime:
        """The current venue time, timezone-aware UTC."""
        ...

    @property
    def speed(self) -> float:
        """Venue seconds per wall second (0 for a clock that only moves when set)."""
        ...


class WallClock:
    kind = "wall"
    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)


class ScaledClock:
    """Starts at ``start`` and runs ``speed`` times as fast as the wall clock."""

    kind = "scaled"

    def __init__(self, start: datetime, speed: float) -> None:
        if start.tzinfo is None:
            raise ValueError("a scaled clock needs a timezone-aware start")
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.start = start.astimezone(UTC)
        self._speed = float(speed)
        self._anchor = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._anchor) * self._speed)


class ManualClock:
    """Stands still until set; the twin moves it forward before each call it makes."""

    kind = "manual"
    speed = 0.0

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a manual clock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        """Move to ``when``; a clock never runs backwards, so an earlier time is refused."""
        if when.tzinfo is None:
            raise ValueError("set the clock with a timezone-aware time")
        with self._lock:
            if when < self._now:
                raise ValueError(f"the clock cannot go back from {self._now} to {when}")
            self._now = when.astimezone(UTC)


def clock_from_settings(start: datetime | None, speed: float) -> Clock:
    """The wall clock, unless the settings name a start time for a scaled clock."""
    if start is None:
        if speed != 1.0:
            raise ValueError("LAKEGUARD_CLOCK_SPEED needs LAKEGUARD_CLOCK_START")
        return WallClock()
    return ScaledClock(start, speed)
