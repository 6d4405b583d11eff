"""The live stream: ``GET /api/v1/stream`` (WebSocket) pushes events as they happen.

Query parameters: ``topics`` (comma-separated NATS-style patterns, default every topic the
caller may see), ``after`` (an outbox sequence number: events after it are replayed first,
so a client that reconnects misses nothing) and ``token`` (a bearer token, for clients that
cannot set headers; browsers use their session cookie, from a page of the same origin).
Each message is ``{"seq": n, "topic": ..., "event": {...}}``, live or replayed: ``seq`` is the
event's outbox sequence number, so a client reconnects with ``after=<the highest seq seen>``.
When more events are missed than one replay holds, the stream sends a single
``{"seq": null, "topic": "stream.gap", ...}`` instead of them: the client should reload its
state (a fresh snapshot) and keep listening.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from lakeguard.api.state import AppState
from lakeguard.auth.roles import STAFF, WATCH, Principal, Role
from lakeguard.events import Event, topic_matches
from lakeguard.store.outbox import OutboxRow, events_since
from lakeguard.store.session import transaction

router = APIRouter()

# Who may see which topics; a topic not listed here is seen by the command roles only.
TOPIC_ROLES: dict[str, frozenset[Role]] = {
    "incident.": STAFF,
    "unit.": STAFF,
    # Officers and guards on the ground act on crowd alerts and plan steps too.
    "crowd.": STAFF,
}
REPLAY_LIMIT = 5000
GAP_TOPIC = "stream.gap"


def may_see(principal: Principal, topic: str) -> bool:
    for prefix, roles in TOPIC_ROLES.items():
        if topic.startswith(prefix):
            return bool(principal.roles & roles)
    return bool(principal.roles & WATCH)


def _authenticate(state: AppState, websocket: WebSocket, token: str | None) -> Principal | None:
    from lakeguard.auth import sessions, tokens

    now = datetime.now(UTC)
    with transaction(state.sessions) as session:
        if token:
            return tokens.authenticate_token(session, token, now=now)
        cookie = websocket.cookies.get(state.settings.session_cookie)
        if not cookie or not _same_origin(websocket):
            return None
        return sessions.authenticate_session(session, cookie, now=now)


def _same_origin(websocket: WebSocket) -> bool:
    """Whether a cookie-carrying handshake comes from a page of this server.

    Browsers attach cookies to WebSocket handshakes from any site and no CSRF header can be
    added, so the Origin is what keeps another site's page from listening in.
    """
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser: it had to hold the cookie itself
    return urlsplit(origin).netloc == websocket.headers.get("host")


def _message(event: Event, seq: int | None) -> dict[str, Any]:
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
        await _pump(state, websocket, queue)
    except WebSocketDisconnect:
        pass
    finally:
        subscription.close()


async def _replay(state: AppState, websocket: WebSocket, after: int, wanted: Any) -> None:
    from lakeguard.events import event_from_payload

    def read() -> list[tuple[int, Event]] | None:
        with state.sessions() as session:
            rows = events_since(session, after, REPLAY_LIMIT + 1)
            if len(rows) > REPLAY_LIMIT:
                return None
            return [(r.id, event_from_payload(r.topic, r.payload)) for r in rows if wanted(r.topic)]

    replay = await run_in_threadpool(read)
    if replay is None:
        # Part of the gap would be missing; saying so beats a silently incomplete picture.
        gap = {"after": after, "limit": REPLAY_LIMIT}
        await websocket.send_json({"seq": None, "topic": GAP_TOPIC, "event": gap})
        return
    for seq, event in replay:
        await websocket.send_json(_message(event, seq))


def _sequences(state: AppState, events: list[Event]) -> dict[str, int]:
    """The outbox sequence number of each event, by event id (one query for a burst)."""
    ids = [str(e.event_id) for e in events]
    with state.sessions() as session:
        rows = session.execute(
            select(OutboxRow.event_id, OutboxRow.id).where(OutboxRow.event_id.in_(ids))
        )
        return {event_id: seq for event_id, seq in rows}


async def _pump(state: AppState, websocket: WebSocket, queue: asyncio.Queue[Event]) -> None:
    """Send queued events, each with its sequence number, until the client goes away."""
    closed = asyncio.create_task(_until_closed(websocket))
    try:
        while not closed.done():
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                continue
            burst = [getter.result()]
            while not queue.empty() and len(burst) < REPLAY_LIMIT:
                burst.append(queue.get_nowait())
            seqs = await run_in_threadpool(_sequences, state, burst)
            for event in burst:
                await websocket.send_json(_message(event, seqs.get(str(event.event_id))))
    finally:
        closed.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await closed


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
