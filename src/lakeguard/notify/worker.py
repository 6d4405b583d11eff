"""The notify worker: reads the outbox after its cursor, plans deliveries, sends those due.

It runs beside the relay in the API process (never inside a request), one round a second, in
a worker thread so that HTTP and SMTP calls never block the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import httpx
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from lakeguard.notify.channels import TIMEOUT, RedactSecrets, channel_for
from lakeguard.notify.rules import Directory, RuleParams
from lakeguard.notify.service import (
    PlanReport,
    ensure_cursor,
    plan_new_events,
    release_stale_claims,
    send_due,
    venue_directory,
    with_liaison_groups,
)
from lakeguard.notify.targets import TargetConfig, targets_by_name
from lakeguard.store.session import transaction

if TYPE_CHECKING:
    from lakeguard.config import Settings
    from lakeguard.venue.loader import Scenario

log = logging.getLogger(__name__)
ROUND_S = 1.0
# Loggers of the HTTP client, which write every URL they request (a robot's key is in it).
CLIENT_LOGGERS = ("httpx", "httpcore")


@dataclass(frozen=True)
class RoundReport:
    planned: PlanReport
    sent: int


class Notifier:
    """Everything one worker holds: targets, their channels, an HTTP client, the directory."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        targets: Mapping[str, TargetConfig],
        directory: Directory,
        *,
        client: httpx.Client | None = None,
        params: RuleParams | None = None,
    ) -> None:
        self.sessions = sessions
        self.targets = dict(targets)
        self.channels = [channel_for(t) for t in self.targets.values()]
        self.directory = directory
        self.params = params or RuleParams()
        self.client = client or httpx.Client(timeout=TIMEOUT)
        self._filter = RedactSecrets(s for t in self.targets.values() for s in t.secrets())
        for name in CLIENT_LOGGERS:
            logging.getLogger(name).addFilter(self._filter)

    def start(self, *, now: datetime) -> None:
        """Place the cursor (after the newest event on a first start), release stale claims."""
        with transaction(self.sessions) as session:
            ensure_cursor(session, now=now)
            released = release_stale_claims(session, now=now)
        if released:
            log.warning("notify: %d deliveries claimed by a stopped worker; retrying", released)

    def run_once(self, *, now: datetime) -> RoundReport:
        with transaction(self.sessions) as session:
            directory = with_liaison_groups(session, self.directory)
            planned = plan_new_events(
                session, directory, known_targets=self.targets, now=now, params=self.params
            )
        sent = send_due(self.sessions, self.channels, self.client, now=now)
        return RoundReport(planned, sent)

    def close(self) -> None:
        self.client.close()
        for name in CLIENT_LOGGERS:
            logging.getLogger(name).removeFilter(self._filter)


class _LoadedVenue(Protocol):
    @property
    def scenario(self) -> Scenario: ...


class NotifyState(Protocol):
    """What the worker reads of the API process's state: settings, sessions, the venue."""

    @property
    def settings(self) -> Settings: ...

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def venue(self) -> _LoadedVenue | None: ...


def notifier_for(state: NotifyState) -> Notifier | None:
    """The API process's notifier, or None when no target is configured."""
    settings = state.settings
    targets = targets_by_name(settings.notify_targets, settings.notify_targets_file)
    if not targets:
        return None
    directory = venue_directory(
        state.venue.scenario if state.venue is not None else None,
        station_targets=settings.notify_station_targets,
        officer_targets=settings.notify_officer_targets,
    )
    return Notifier(state.sessions, targets, directory)


async def _notify_forever(notifier: Notifier) -> None:
    started = False
    while True:
        if not started:
            try:
                await run_in_threadpool(lambda: notifier.start(now=datetime.now(UTC)))
                started = True
            except Exception:
                log.exception("notify worker could not start; retrying")
                await asyncio.sleep(ROUND_S)
                continue
        try:
            await run_in_threadpool(lambda: notifier.run_once(now=datetime.now(UTC)))
        except Exception:
            log.exception("notify round failed; retrying")
        await asyncio.sleep(ROUND_S)


@contextlib.asynccontextmanager
async def running_notifier(state: NotifyState) -> AsyncIterator[Notifier | None]:
    """Run the notify worker while the block runs, when targets are configured."""
    notifier = notifier_for(state)
    if notifier is None:
        yield None
        return
    task = asyncio.create_task(_notify_forever(notifier), name="notify-worker")
    try:
        yield notifier
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        notifier.close()
