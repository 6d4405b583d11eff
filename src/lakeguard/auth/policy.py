"""Who may call what. Every route declares its policy; a route without one is refused.

CONTRACT (other domains code against this; the implementation lives in this package):

- ``Role``: the roles a user can hold, and the named role groups (``COMMAND``, ``WATCH``,
  ``FIELD``, ``STAFF``…): ``auth/roles.py``.
- ``Principal``: who is calling: a user (browser session or bearer token) or a device (a
  bearer token bound to a unit or a sensor); ``auth/roles.py`` too.
- ``require(*roles, scope=None)``: a FastAPI dependency factory. The returned dependency
  authenticates the request (session cookie with CSRF check on unsafe methods, or
  ``Authorization: Bearer <token>``, or for device protocols that cannot set headers a
  ``token`` query/form parameter), answers 401 when nobody is authenticated and 403 (audited)
  when the principal holds none of ``roles`` (or, for tokens, lacks ``scope``), and returns the
  ``Principal``. Use it as ``principal: Annotated[Principal, Depends(require(Role.DISPATCHER))]``.
- ``Staff``, ``Watcher``, ``Dispatcher``, ``Commander``, ``Overseer``, ``FieldUser``: the
  policies of the named role groups, ready to annotate a parameter (``who: Watcher``).
- ``public()``: the explicit policy of routes anyone may call (health, login, docs).

Details of the implementation:

- There is no implicit super-user: a route open to admins names ``Role.ADMIN``.
- ``scope=None`` means the general scope ``"api"``: a token issued for positions only cannot
  call the rest of the API. Browser sessions carry no scopes and pass every scope check.
- A query or form ``token`` is read only where the route opts in with
  ``allow_query_token=True`` (OsmAnd-style trackers); elsewhere it is ignored.
- A device principal carries the ``unit_id`` or ``sensor_id`` its token is bound to; a view
  that accepts data for a unit or sensor must check that it is the bound one.
- Put the policy first (or in the router's ``dependencies``), so that it runs before
  dependencies that could fail for other reasons (no venue loaded: 503).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Protocol

import fastapi.routing
from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from lakeguard.auth.roles import (
    COMMAND,
    FIELD,
    LEADERSHIP,
    OVERSIGHT,
    STAFF,
    WATCH,
    Principal,
    Role,
)
from lakeguard.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from lakeguard.config import Settings


DEFAULT_SCOPE = "api"
# Token scopes. A domain that needs a narrower one adds it here, so typos fail at import.
KNOWN_SCOPES: frozenset[str] = frozenset({DEFAULT_SCOPE, "positions", "observations"})

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuthState(Protocol):
    """What a policy needs of the application's state (``app.state.lakeguard``)."""

    settings: Settings
    sessions: sessionmaker[Session]


class NotAuthenticated(Unauthorized):
    title = "Not authenticated"


class Policy:
    """What every policy dependency is, so that routes without one can be found."""

    public: bool = False


class _Public(Policy):
    public = True

    async def __call__(self) -> None:
        return None


def public() -> Callable[..., Awaitable[None]]:
    """The policy of a route anyone may call, authenticated or not."""
    return _Public()


# Listed in OpenAPI, so /docs offers to send a token; auto_error off: a missing header is ours
# to answer (401 problem), and a cookie may authenticate instead.
_bearer = HTTPBearer(auto_error=False, description="A token from `lakeguard user token`")


class _Require(Policy):
    def __init__(self, roles: frozenset[Role], scope: str, allow_query_token: bool) -> None:
        self.roles, self.scope, self.allow_query_token = roles, scope, allow_query_token

    async def __call__(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        token = bearer.credentials if bearer else None
        if token is None and self.allow_query_token:
            token = await _query_or_form_token(request)
        # Database work runs in a worker thread, as FastAPI does for sync dependencies.
        return await run_in_threadpool(self._decide, request, token)

    def _decide(self, request: Request, token: str | None) -> Principal:
        from lakeguard.auth import audit
        from lakeguard.store.session import transaction

        state: AuthState = request.app.state.lakeguard
        now = datetime.now(UTC)
        refusal = None
        with transaction(state.sessions) as session:
            principal = _authenticate(session, state, request, token, now)
            if principal is not None:
                refusal = self.refusal(principal, request)
                if refusal is not None:
                    audit.append(
                        session,
                        actor=principal.subject,
                        action="access.denied",
                        target_type="route",
                        target_id=f"{request.method} {request.url.path}",
                        outcome=audit.Outcome.DENIED,
                        detail={"reason": refusal},
                        now=now,
                    )
        if principal is None:
            raise NotAuthenticated("log in, or send 'Authorization: Bearer <token>'")
        # The audit middleware names the actor of a write from here, refused or not.
        request.state.principal = principal
        if refusal is not None:
            raise Forbidden(refusal)
        return principal

    def refusal(self, principal: Principal, request: Request) -> str | None:
        """Why the principal may not make this request, or None when it may."""
        if principal.via_session and request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), (principal.csrf_token or "").encode()):
                return f"missing or wrong {CSRF_HEADER} header"
        if not principal.roles & self.roles:
            wanted = ", ".join(sorted(self.roles))
            return f"this needs one of the roles: {wanted}"
        if not principal.via_session and self.scope not in principal.scopes:
            return f"this token lacks the scope {self.scope!r}"
        return None


def require(
    *roles: Role, scope: str | None = None, allow_query_token: bool = False
) -> Callable[..., Awaitable[Principal]]:
    """The policy of a route open to principals holding one of ``roles`` (see module doc)."""
    if not roles:
        raise ValueError("require() needs at least one role; use public() for open routes")
    wanted = scope or DEFAULT_SCOPE
    if wanted not in KNOWN_SCOPES:
        raise ValueError(f"unknown scope {wanted!r}; known: {', '.join(sorted(KNOWN_SCOPES))}")
    return _Require(frozenset(roles), wanted, allow_query_token)


# The policies of the named role groups, one name each wherever a route declares it.
Staff = Annotated[Principal, Depends(require(*STAFF))]
Watcher = Annotated[Principal, Depends(require(*WATCH))]
Dispatcher = Annotated[Principal, Depends(require(*COMMAND))]
Commander = Annotated[Principal, Depends(require(*LEADERSHIP))]
Overseer = Annotated[Principal, Depends(require(*OVERSIGHT))]
FieldUser = Annotated[Principal, Depends(require(*FIELD))]


async def _query_or_form_token(request: Request) -> str | None:
    if "token" in request.query_params:
        return request.query_params["token"]
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        value = (await request.form()).get("token")
        return value if isinstance(value, str) else None
    return None


def _authenticate(
    session: Session, state: AuthState, request: Request, token: str | None, now: datetime
) -> Principal | None:
    from lakeguard.auth import sessions, tokens

    if token is not None:
        return tokens.authenticate_token(session, token, now=now)
    cookie = request.cookies.get(state.settings.session_cookie)
    if cookie is None:
        return None
    return sessions.authenticate_session(session, cookie, now=now)


# -- deny by default ------------------------------------------------------------------------


class MissingPolicyError(RuntimeError):
    """Routes that declare no policy (or contradictory ones)."""


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


@dataclass(frozen=True)
class ApiRoute:
    """An HTTP route as the app serves it: full path, methods, the policies it declares."""

    path: str
    methods: frozenset[str]
    policies: tuple[Policy, ...]


def api_routes(app: FastAPI) -> list[ApiRoute]:
    """Every ``APIRoute`` of the app with its full path and its policies, at any depth.

    Not the docs (/docs, /openapi.json: plain Starlette routes, public by nature) nor WebSocket
    routes, which authenticate in their own handshake.
    """
    # Newer FastAPI keeps included routers lazily in app.routes and flattens them on request.
    flatten = getattr(fastapi.routing, "iter_route_contexts", lambda routes: routes)
    found: list[ApiRoute] = []
    for route in flatten(app.routes):
        if not isinstance(getattr(route, "original_route", route), APIRoute):
            continue
        policies: list[Policy] = []
        for dependant in _dependants(route.dependant):
            if isinstance(dependant.call, Policy):
                policies.append(dependant.call)
        found.append(ApiRoute(route.path, frozenset(route.methods), tuple(policies)))
    return found


def assert_every_route_has_a_policy(app: FastAPI) -> None:
    """Raise, naming each offender, unless every API route declares exactly one kind of policy."""
    offenders: list[str] = []
    for route in api_routes(app):
        kinds = {p.public for p in route.policies}
        if len(kinds) != 1:
            problem = "no policy" if not kinds else "both public() and require()"
            offenders.extend(f"{m} {route.path}: {problem}" for m in sorted(route.methods))
    if offenders:
        raise MissingPolicyError(
            "every route needs require(...) or public() as a dependency:\n  "
            + "\n  ".join(offenders)
        )
