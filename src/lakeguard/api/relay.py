"""Moves events from the outbox to the bus, in order, in the background of the API process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool

from lakeguard.api.state import AppState
from lakeguard.store.outbox import relay

log = logging.getLogger(__name__)
# How long an event may wait in the outbox when no write wakes the relay sooner.
IDLE_INTERVAL_S = 0.5


async def _relay_forever(state: AppState) -> None:
    while True:
        try:
            while await run_in_threadpool(relay, state.sessions, state.bus, now=datetime.now(UTC)):
                pass
        except Exception:
            # A database hiccup must not stop delivery for good: log and retry next round.
            log.exception("outbox relay failed; retrying")
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that arrives as the event is set, and the relay would then outlive the server.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(IDLE_INTERVAL_S):
                await state.outbox_written.wait()
        state.outbox_written.clear()


@contextlib.asynccontextmanager
async def running_relay(state: AppState) -> AsyncIterator[None]:
    """Run the relay while the block runs."""
    task = asyncio.create_task(_relay_forever(state), name="outbox-relay")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
