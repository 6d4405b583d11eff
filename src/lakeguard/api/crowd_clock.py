"""Ticks the crowd monitor on the venue's clock, so levels move when no data arrives."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

from lakeguard.api.state import AppState

log = logging.getLogger(__name__)


async def _tick_forever(state: AppState, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        if state.crowd is None:
            continue
        try:
            await run_in_threadpool(state.crowd.tick, state.clock.now())
        except Exception:
            log.exception("crowd clock tick failed; trying again next tick")


@contextlib.asynccontextmanager
async def running_crowd_clock(state: AppState) -> AsyncIterator[None]:
    """Tick the crowd monitor every ``crowd_tick_s`` while the block runs (0: never)."""
    every_s = state.settings.crowd_tick_s
    if every_s <= 0:
        yield
        return
    task = asyncio.create_task(_tick_forever(state, every_s), name="crowd-clock")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
