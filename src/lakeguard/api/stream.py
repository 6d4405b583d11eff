"""The live stream: ``GET /api/v1/stream`` (WebSocket) pushes events as they happen.

Query parameters: ``topics`` (comma-separated NATS-style patterns, default every topic the
caller may see), ``after`` (an outbox sequence number: events after it are replayed first,
so a client that reconnects misses nothing) and ``token`` (a bearer token, for clients that
cannot set headers; browsers use their session cookie). Each message is
``{"seq": n | null, "topic": ..., "event": {...}}``; ``seq`` is set on replayed events.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from lakeguard.api.state import AppState
from lakeguard.auth.policy import Principal, Role
from lakeguard.events import Event, topic_matches
from lakeguard.store.outbox import events_since
from lakeguard.store.session import transaction

router = APIRouter()

_COMMAND = frozenset({Role.ADMIN, Role.COMMANDER, Role.DISPATCHER, Role.AUDITOR})
# Who may see which topics; a topic not listed here is seen by the command roles only.
TOPIC_ROLES: dict[str, frozenset[Role]] = {
    "incident.": _COMMAND | {Role.FIELD_OFFICER, Role.GUARD},
    "unit.": _COMMAND | {Role.FIELD_OFFICER, Role.GUARD},
    # Officers and guards on the ground act on crowd alerts and plan steps too.
    "crowd.": _COMMAND | {Role.FIELD_OFFICER, Role.GUARD},
}
REPLAY_LIMIT = 5000


def may_see(principal: Principal, topic: str) -> bool:
    for prefix, roles in TOPIC_ROLES.items():
        if topic.startswith(prefix):
            return bool(principal.roles & roles)
    return bool(principal.roles & _COMMAND)


def _authenticate(state: AppState, websocket: WebSocket, token: str | None) -> Principal | None:
    from lakeguard.auth import sessions, tokens

    now = datetime.now(UTC)
    with transaction(state.sessions) as session:
        if token:
            return tokens.authenticate_token(session, token, now=now)
        cookie = websocket.cookies.get(state.settings.session_cookie)
        return sessions.authenticate_session(session, cookie, now=now) if cookie else None


def _message(event: Event, seq: int | None = None) -> dict[str, Any]:
    return {"seq": seq, "topic": event.topic, "event": event.model_dump(mode="json")}


@router.websocket("/api/v1/stream")
async def stream(
    websocket: WebSocket, topics: str = ">", after: int | None = None, token: str | None = None
) -> None:
    state: AppState = websocket.app.state.lakeguard
    principal = await run_in_threadpool(_authenticate, state, websocket, token)
    if principal is not None and principal.scopes and "api" not in principal.scopes:
        # A tracker's positions-only token is not a key to the command room's events.
        principal = None
    if principal is None:
        await websocket.close(code=4401, reason="not authenticated")
        return
    patterns = [p.strip() for p in topics.split(",") if p.strip()] or [">"]

    def wanted(topic: str) -> bool:
        return may_see(principal, topic) and any(topic_matches(p, topic) for p in patterns)

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Event] = asyncio.Queue()

    def deliver(event: Event) -> None:
        if wanted(event.topic):
            loop.call_soon_threadsafe(queue.put_nowait, event)

    subscription = state.bus.subscribe(patterns, deliver)
    await websocket.accept()
    try:
        if after is not None:
            await _replay(state, websocket, after, wanted)
        await _pump(websocket, queue)
    except WebSocketDisconnect:
        pass
    finally:
        subscription.close()


async def _replay(state: AppState, websocket: WebSocket, after: int, wanted: Any) -> None:
    from lakeguard.events import event_from_payload

    def read() -> list[tuple[int, Event]]:
        with state.sessions() as session:
            rows = events_since(session, after, REPLAY_LIMIT)
            return [(r.id, event_from_payload(r.topic, r.payload)) for r in rows if wanted(r.topic)]

    for seq, event in await run_in_threadpool(read):
        await websocket.send_json(_message(event, seq))


async def _pump(websocket: WebSocket, queue: asyncio.Queue[Event]) -> None:
    """Send queued events until the client goes away."""
    closed = asyncio.create_task(_until_closed(websocket))
    try:
        while not closed.done():
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                await websocket.send_json(_message(getter.result()))
            else:
                getter.cancel()
    finally:
        closed.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await closed


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
