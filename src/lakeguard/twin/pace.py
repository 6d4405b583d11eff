"""How the twin keeps time with the platform it drives.

A batch twin owns the embedded platform's clock and sets it before each call, so a day runs
as fast as the machine allows and every record carries the twin's time. A live twin follows
a running server's clock (a scaled one in the demo) and waits until the server's time reaches
the moment of each call.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Protocol

from lakeguard.clock import ManualClock


class Pace(Protocol):
    def wait_until(self, when: datetime) -> None:
        """Return once the platform's time has reached ``when`` (or at once if it has)."""
        ...

    def now(self) -> datetime:
        """The platform's time as the twin sees it."""
        ...


class BatchPace:
    """Moves the embedded platform's clock forward; never waits."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock

    def wait_until(self, when: datetime) -> None:
        if when > self.clock.now():
            self.clock.set(when)

    def now(self) -> datetime:
        return self.clock.now()


class LivePace:
    """Follows a server's clock, read once as (its time, its speed) and then run locally."""

    def __init__(self, server_now: datetime, speed: float, stop: threading.Event) -> None:
        if speed <= 0:
            raise ValueError(
                "the server's clock does not run (a manual clock); a live twin needs a wall or "
                "scaled clock"
            )
        self.origin = server_now
        self.speed = speed
        self.anchor = time.monotonic()
        self.stop = stop

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=(time.monotonic() - self.anchor) * self.speed)

    def wait_until(self, when: datetime) -> None:
        ahead_s = (when - self.now()).total_seconds() / self.speed
        if ahead_s > 0:
            # An Event, not sleep: Ctrl-C (or a stop from another thread) ends the wait at once.
            self.stop.wait(ahead_s)
