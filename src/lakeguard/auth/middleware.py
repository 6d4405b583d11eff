"""Every write to the API leaves an audit record: actor, method, path, status."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lakeguard.auth import audit
from lakeguard.auth.policy import SAFE_METHODS
from lakeguard.auth.roles import Principal
from lakeguard.store.session import transaction

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


def _outcome(status: int) -> audit.Outcome:
    if status < 400:
        return audit.Outcome.SUCCESS
    if status in (401, 403):
        return audit.Outcome.DENIED
    return audit.Outcome.FAILURE


class AuditWrites:
    """ASGI middleware recording each non-GET/HEAD/OPTIONS API request as it is answered.

    The record is written when the response starts, so a client never holds an answer to a
    write that left no trace. The actor is the principal that ``require`` put on the request
    state (``anonymous`` on public routes and for requests refused before it).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not scope["path"].startswith(API_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        # The request state lives in this dict; creating it here lets us read what the
        # route's dependencies put in it.
        request_state = scope.setdefault("state", {})
        recorded = False

        async def send_recording(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                await self._record(scope, request_state, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        except Exception:
            if not recorded:
                await self._record(scope, request_state, 500)
            raise

    async def _record(self, scope: Scope, request_state: dict[str, object], status: int) -> None:
        state = getattr(scope["app"].state, "lakeguard", None)
        if state is None:  # no lifespan has run: there is no database to write to
            return
        principal = request_state.get("principal")
        actor = principal.subject if isinstance(principal, Principal) else "anonymous"
        method, path = scope["method"], scope["path"]
        outcome = _outcome(status)

        def write() -> None:
            with transaction(state.sessions) as session:
                audit.append(
                    session,
                    actor=actor,
                    action="http.write",
                    target_type="route",
                    target_id=f"{method} {path}",
                    outcome=outcome,
                    detail={"method": method, "path": path, "status": status},
                    now=datetime.now(UTC),
                )

        try:
            await run_in_threadpool(write)
        except Exception:
            # The write itself has already happened; refusing its answer would hide that.
            log.exception("could not record %s %s in the audit log", method, path)
