"""Auth endpoints: login and logout, who am I, tokens, users, and reading the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from lakeguard.api.deps import DbSession, State
from lakeguard.auth import audit, sessions, tokens
from lakeguard.auth import service as users
from lakeguard.auth.models import (
    ApiTokenRow,
    AuditRead,
    LoginRead,
    LoginRequest,
    MeRead,
    TokenCreate,
    TokenIssued,
    TokenRead,
    UserCreate,
    UserRead,
)
from lakeguard.auth.policy import public, require
from lakeguard.auth.roles import USER_ROLES, Principal, Role
from lakeguard.errors import Unauthorized

auth_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
users_router = APIRouter(prefix="/api/v1/users", tags=["auth"])
audit_router = APIRouter(prefix="/api/v1/audit", tags=["auth"])

Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


class LoginFailed(Unauthorized):
    title = "Login failed"


def _now() -> datetime:
    return datetime.now(UTC)


# -- sessions -------------------------------------------------------------------------------


@auth_router.post("/login", dependencies=[Depends(public())], summary="Log in (browser)")
def login(body: LoginRequest, response: Response, session: DbSession, state: State) -> LoginRead:
    settings = state.settings
    with session.begin():
        result = sessions.login(
            session,
            username=body.username,
            password=body.password,
            lifetime=timedelta(hours=settings.session_lifetime_hours),
            now=_now(),
        )
    if result is None:
        raise LoginFailed("wrong username or password, or account disabled")
    response.set_cookie(
        settings.session_cookie,
        result.session_id,
        max_age=int(settings.session_lifetime_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
    )
    return LoginRead(
        username=result.user.username,
        roles=sorted(result.user.roles),
        csrf_token=result.csrf_token,
    )


@auth_router.post("/logout", status_code=204, summary="End the browser session")
def logout(
    principal: Annotated[Principal, Depends(require(*USER_ROLES))],
    response: Response,
    session: DbSession,
    state: State,
) -> None:
    with session.begin():
        sessions.logout(session, principal=principal, now=_now())
    response.delete_cookie(state.settings.session_cookie, path="/")


@auth_router.get("/me", summary="Who is calling")
def me(principal: Annotated[Principal, Depends(require(*Role))]) -> MeRead:
    return MeRead(
        subject=principal.subject,
        username=None if Role.DEVICE in principal.roles else principal.subject,
        roles=sorted(principal.roles),
        unit_id=principal.unit_id,
        sensor_id=principal.sensor_id,
        scopes=sorted(principal.scopes),
        csrf_token=principal.csrf_token,
    )


# -- tokens ---------------------------------------------------------------------------------


def _token_read(row: ApiTokenRow, username: str | None) -> dict[str, object]:
    return {
        "id": row.id,
        "label": row.label,
        "username": username,
        "unit_id": row.unit_id,
        "sensor_id": row.sensor_id,
        "scopes": row.scopes,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "last_used_at": row.last_used_at,
        "revoked_at": row.revoked_at,
    }


@auth_router.post("/tokens", status_code=201, summary="Issue a token (shown once)")
def create_token(body: TokenCreate, admin: Admin, session: DbSession) -> TokenIssued:
    with session.begin():
        user = None
        if body.username is not None:
            user = users.get_by_username(session, username=body.username)
            if user is None:
                raise tokens.InvalidToken(f"no user {body.username!r}", field="username")
        row, secret = tokens.issue(
            session,
            user=user,
            scopes=body.scopes,
            unit_id=body.unit_id,
            sensor_id=body.sensor_id,
            label=body.label,
            actor=admin.subject,
            now=_now(),
        )
    return TokenIssued.model_validate({**_token_read(row, body.username), "token": secret})


@auth_router.get("/tokens", summary="Every token (never their secrets)")
def list_tokens(admin: Admin, session: DbSession) -> list[TokenRead]:
    return [TokenRead.model_validate(_token_read(r, u)) for r, u in tokens.list_tokens(session)]


@auth_router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
def revoke_token(token_id: int, admin: Admin, session: DbSession) -> None:
    with session.begin():
        tokens.revoke(session, token_id=token_id, actor=admin.subject, now=_now())


# -- users ----------------------------------------------------------------------------------


@users_router.get("", summary="Every user")
def list_users(admin: Admin, session: DbSession) -> list[UserRead]:
    return [UserRead.of(u) for u in users.list_users(session)]


@users_router.post("", status_code=201, summary="Create a user")
def create_user(body: UserCreate, admin: Admin, session: DbSession) -> UserRead:
    with session.begin():
        user = users.create(
            session,
            username=body.username,
            roles=body.roles,
            password=body.password,
            unit_id=body.unit_id,
            actor=admin.subject,
            now=_now(),
        )
    return UserRead.of(user)


# -- audit ----------------------------------------------------------------------------------


@audit_router.get("", summary="The audit log, newest first (this read is audited too)")
def read_audit(
    principal: Annotated[Principal, Depends(require(Role.AUDITOR, Role.ADMIN))],
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(description="Only records older than this id")] = None,
    actor: str | None = None,
    action: str | None = None,
) -> list[AuditRead]:
    with session.begin():
        rows = audit.list_records(
            session, limit=limit, before_id=before_id, actor=actor, action=action
        )
        audit.append(
            session,
            actor=principal.subject,
            action="audit.read",
            target_type="audit_log",
            target_id="",
            outcome=audit.Outcome.SUCCESS,
            detail={"limit": limit, "before_id": before_id, "actor": actor, "action": action},
            now=_now(),
        )
    return [AuditRead.of(r) for r in rows]
