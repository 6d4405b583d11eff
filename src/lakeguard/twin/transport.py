"""An HTTP client transport that calls an ASGI app in this process, for a batch twin.

The app runs on an event loop of its own thread, with its lifespan (outbox relay and the
rest) started as a server would start it; each request is handed to that loop once and the
answer read back whole. httpx's ``ASGITransport`` does the ASGI work; this only lets a
synchronous client use it, which costs about half of what a test client's portal does.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

T = TypeVar("T")


class InProcessTransport(httpx.BaseTransport):
    """Serves requests with ``app`` on a private event loop; close() ends its lifespan."""

    def __init__(self, app: FastAPI) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="lakeguard-embedded", daemon=True
        )
        self._thread.start()
        self._asgi = httpx.ASGITransport(app=app)
        self._stack = AsyncExitStack()
        self._run(self._stack.enter_async_context(app.router.lifespan_context(app)))

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def answer() -> httpx.Response:
            forwarded = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            response = await self._asgi.handle_async_request(forwarded)
            content = await response.aread()
            return httpx.Response(
                response.status_code, headers=response.headers, content=content, request=request
            )

        return self._run(answer())

    def close(self) -> None:
        if not self._loop.is_running():
            return
        try:
            self._run(self._stack.aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
