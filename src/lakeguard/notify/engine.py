"""The pure core of sending: notices and digests, when a target may send, and retry delays.

Nothing here reads a clock: every decision takes ``now``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
RATE_WINDOW = timedelta(minutes=1)
BACKOFF_BASE_S = 10.0
BACKOFF_CAP_S = 900.0


class Outcome(StrEnum):
    OK = "ok"
    RETRY = "retry"  # the service is busy, throttling or unreachable: try again later
    FAILED = "failed"  # the service refused the message itself: retrying cannot help


@dataclass(frozen=True)
class Notice:
    """One thing to tell one target, as a rule or a broadcast words it."""

    key: str  # the idempotency key: event id and target
    title: str
    body: str
    severity: Severity = "info"


@dataclass(frozen=True)
class Message:
    """What one send carries: one notice, or a digest of several."""

    notices: tuple[Notice, ...]

    @property
    def digest(self) -> bool:
        return len(self.notices) > 1

    @property
    def severity(self) -> Severity:
        return max((n.severity for n in self.notices), key=SEVERITIES.index)

    @property
    def title(self) -> str:
        if not self.digest:
            return self.notices[0].title
        return f"LakeGuard digest: {len(self.notices)} notices"

    @property
    def idempotency_key(self) -> str:
        """Stable for the same notices, so a receiver can drop a repeat."""
        joined = "\n".join(sorted(n.key for n in self.notices))
        return hashlib.sha256(joined.encode()).hexdigest()[:32]

    def text(self, limit_bytes: int | None = None) -> str:
        """Plain text: the notice, or the digest's lines; cut to ``limit_bytes`` of UTF-8."""
        if not self.digest:
            notice = self.notices[0]
            return _fit(f"{notice.title}\n{notice.body}".strip(), limit_bytes)
        lines = [self.title]
        lines += [f"• {n.title}: {n.body}" if n.body else f"• {n.title}" for n in self.notices]
        return _fit_lines(lines, limit_bytes)


def _fit(text: str, limit_bytes: int | None) -> str:
    data = text.encode()
    if limit_bytes is None or len(data) <= limit_bytes:
        return text
    return data[: limit_bytes - len("…".encode())].decode(errors="ignore") + "…"


def _fit_lines(lines: list[str], limit_bytes: int | None) -> str:
    """Whole lines while they fit, then a count of those left out."""
    if limit_bytes is None or len("\n".join(lines).encode()) <= limit_bytes:
        return "\n".join(lines)
    kept: list[str] = []
    for n, line in enumerate(lines):
        more = f"… and {len(lines) - n - 1} more"
        if len("\n".join([*kept, line, more]).encode()) > limit_bytes:
            break
        kept.append(line)
    return _fit("\n".join([*kept, f"… and {len(lines) - len(kept)} more"]), limit_bytes)


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    detail: str = ""
    status_code: int | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True)
class Pending:
    """A delivery waiting for its target."""

    id: int
    created_at: datetime
    retry: bool  # failed before: due by its own backoff, so it does not hold the group


@dataclass(frozen=True)
class Pacing:
    """A target's limits, as its configuration gives them."""

    per_minute: int
    group_wait_s: float
    group_max_wait_s: float


def batches_due(
    pending: Sequence[Pending], recent_sends: Sequence[datetime], pacing: Pacing, now: datetime
) -> list[tuple[int, ...]]:
    """Which deliveries to send now, each tuple one message (a digest when it holds several).

    A target that groups (``group_wait_s`` > 0) holds fresh notices until none has come for
    ``group_wait_s`` or the oldest has waited ``group_max_wait_s``, then sends them all as one:
    twenty alerts inside a minute reach a chat group as one message. Any target sends at most
    ``per_minute`` messages in a sliding minute; when more are due than it may still send, all
    of them go as one digest.
    """
    if not pending:
        return []
    budget = pacing.per_minute - sum(1 for t in recent_sends if now - t < RATE_WINDOW)
    if budget <= 0:
        return []
    fresh = [p for p in pending if not p.retry]
    if pacing.group_wait_s > 0 and fresh:
        quiet_s = (now - max(p.created_at for p in fresh)).total_seconds()
        held_s = (now - min(p.created_at for p in fresh)).total_seconds()
        if quiet_s < pacing.group_wait_s and held_s < pacing.group_max_wait_s:
            pending = [p for p in pending if p.retry]
            if not pending:
                return []
    ids = [p.id for p in sorted(pending, key=lambda p: (p.created_at, p.id))]
    if pacing.group_wait_s > 0 or len(ids) > budget:
        return [tuple(ids)]
    return [(i,) for i in ids]


def next_send_after(
    pending: Sequence[Pending], recent_sends: Sequence[datetime], pacing: Pacing, now: datetime
) -> datetime | None:
    """When :func:`batches_due` may next have something (for the worker's sleep); None: idle."""
    if not pending:
        return None
    window = sorted(t for t in recent_sends if now - t < RATE_WINDOW)
    if len(window) >= pacing.per_minute:
        return window[len(window) - pacing.per_minute] + RATE_WINDOW
    fresh = [p for p in pending if not p.retry]
    if pacing.group_wait_s > 0 and fresh:
        quiet = max(p.created_at for p in fresh) + timedelta(seconds=pacing.group_wait_s)
        held = min(p.created_at for p in fresh) + timedelta(seconds=pacing.group_max_wait_s)
        return max(now, min(quiet, held))
    return now


def retry_delay_s(attempts: int, retry_after_s: float | None = None) -> float:
    """Exponential backoff after the ``attempts``-th failure, never sooner than Retry-After."""
    backoff = min(BACKOFF_BASE_S * 2.0 ** max(attempts - 1, 0), BACKOFF_CAP_S)
    return max(backoff, retry_after_s or 0.0)
