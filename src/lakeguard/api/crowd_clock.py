"""Ticks the crowd monitor on the venue's clock, so levels move when no data arrives."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

from lakeguard.api.state import AppState

log = logging.getLogger(__name__)
TICK_S = 15.0  # a silent network is re-judged this often (wall seconds)


async def _tick_forever(state: AppState) -> None:
    while True:
        await asyncio.sleep(TICK_S)
        if state.crowd is None:
            continue
        try:
            await run_in_threadpool(state.crowd.tick, state.clock.now())
        except Exception:
            log.exception("crowd clock tick failed; trying again next tick")


@contextlib.asynccontextmanager
async def running_crowd_clock(state: AppState) -> AsyncIterator[None]:
    """Tick the crowd monitor while the block runs."""
    task = asyncio.create_task(_tick_forever(state), name="crowd-clock")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
