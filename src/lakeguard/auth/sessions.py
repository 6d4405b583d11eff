"""Browser sessions: password login, the session behind the cookie, CSRF tokens, logout."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from lakeguard.auth import audit
from lakeguard.auth import service as users
from lakeguard.auth.models import UserRow, WebSessionRow
from lakeguard.auth.roles import Principal


@dataclass(frozen=True)
class LoginResult:
    """A new browser session: the id goes in the cookie, the CSRF token to the page."""

    user: UserRow
    session_id: str
    csrf_token: str
    expires_at: datetime


def session_key(session_id: str) -> str:
    """What the database keeps of a session id: its SHA-256, which grants nothing."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def login(
    session: Session, *, username: str, password: str, lifetime: timedelta, now: datetime
) -> LoginResult | None:
    """Check a password and open a session; None (audited as a failed login) if refused."""
    user = users.get_by_username(session, username=username)
    ok = users.check_password(user, password)
    if user is None or not ok or user.disabled:
        reason = "unknown user" if user is None else "disabled" if ok else "wrong password"
        _audit_login(session, username, audit.Outcome.FAILURE, {"reason": reason}, now)
        return None
    users.rehash_if_needed(user, password)
    session_id, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires_at = now + lifetime
    session.add(
        WebSessionRow(
            id_hash=session_key(session_id),
            user_id=user.id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
    )
    detail = {"expires_at": expires_at.isoformat()}
    _audit_login(session, username, audit.Outcome.SUCCESS, detail, now)
    return LoginResult(user, session_id, csrf_token, expires_at)


def _audit_login(
    session: Session, username: str, outcome: audit.Outcome, detail: dict[str, Any], now: datetime
) -> None:
    """Record a login attempt under the name it gave, known user or not."""
    audit.append(
        session,
        actor=username,
        action="auth.login",
        target_type="user",
        target_id=username,
        outcome=outcome,
        detail=detail,
        now=now,
    )


def authenticate_session(session: Session, session_id: str, *, now: datetime) -> Principal | None:
    """The principal behind a session cookie, or None: unknown, expired, or user disabled."""
    row = session.get(WebSessionRow, session_key(session_id))
    if row is None:
        return None
    if row.expires_at <= now:
        session.delete(row)
        return None
    user = users.get(session, user_id=row.user_id)
    if user is None or user.disabled:
        return None
    return users.principal_of(user, session_key=row.id_hash, csrf_token=row.csrf_token)


def logout(session: Session, *, principal: Principal, now: datetime) -> bool:
    """End the principal's browser session; False when it came with a token instead."""
    if principal.session_key is None:
        return False
    session.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == principal.session_key))
    audit.append(
        session,
        actor=principal.subject,
        action="auth.logout",
        target_type="user",
        target_id=principal.subject,
        outcome=audit.Outcome.SUCCESS,
        now=now,
    )
    return True


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete sessions past their expiry; returns how many."""
    result = session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
