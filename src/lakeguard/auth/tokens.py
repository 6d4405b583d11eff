"""Bearer tokens for the CLI, devices and integrations: random, shown once, kept as a hash."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakeguard.auth import audit
from lakeguard.auth import service as users
from lakeguard.auth.models import ApiTokenRow, UserRow
from lakeguard.auth.policy import KNOWN_SCOPES
from lakeguard.auth.roles import Principal, Role
from lakeguard.errors import Invalid, NotFound
from lakeguard.store.session import get_or_raise

# Recognisable by secret scanners and people alike.
TOKEN_PREFIX = "lg_"
# Writing last-used on every request would make each read a write; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class InvalidToken(Invalid):
    """A token that cannot be issued as asked."""

    title = "Invalid token request"


class TokenNotFound(NotFound):
    title = "No such token"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session,
    *,
    user: UserRow | None,
    scopes: Iterable[str],
    unit_id: str | None = None,
    sensor_id: str | None = None,
    label: str = "",
    actor: str,
    now: datetime,
) -> tuple[ApiTokenRow, str]:
    """A new token and its secret, which is not stored and cannot be shown again.

    Bound to a unit or a sensor, it is a device token and acts with the device role only;
    otherwise it acts as its user, with the user's roles.
    """
    chosen = sorted(set(scopes))
    unknown = set(chosen) - KNOWN_SCOPES
    if not chosen or unknown:
        known = ", ".join(sorted(KNOWN_SCOPES))
        raise InvalidToken(f"scopes must be some of {known}; got {', '.join(chosen) or 'none'}")
    if unit_id is not None and sensor_id is not None:
        raise InvalidToken("a device token is bound to a unit or to a sensor, not both")
    if user is None and unit_id is None and sensor_id is None:
        raise InvalidToken("a token needs a user, a unit or a sensor")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        token_hash=token_hash(secret),
        label=label,
        user_id=user.id if user is not None else None,
        unit_id=unit_id,
        sensor_id=sensor_id,
        scopes=chosen,
        created_by=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="token.create",
        target_type="token",
        target_id=str(row.id),
        outcome=audit.Outcome.SUCCESS,
        detail={
            "user": user.username if user is not None else None,
            "unit_id": unit_id,
            "sensor_id": sensor_id,
            "scopes": chosen,
        },
        now=now,
    )
    return row, secret


def _owner(session: Session, row: ApiTokenRow) -> UserRow | None:
    return users.get(session, user_id=row.user_id) if row.user_id is not None else None


def _refusal(row: ApiTokenRow | None, owner: UserRow | None) -> str | None:
    if row is None:
        return "unknown token"
    if row.revoked_at is not None:
        return "revoked"
    if owner is not None and owner.disabled:
        return "user disabled"
    return None


def authenticate_token(session: Session, token: str, *, now: datetime) -> Principal | None:
    """The principal a token acts as; None, audited, if unknown, revoked or its user disabled."""
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash(token)))
    owner = _owner(session, row) if row is not None else None
    refused = _refusal(row, owner)
    if row is None or refused is not None:
        audit.append(
            session,
            actor="anonymous" if row is None else f"token:{row.id}",
            action="auth.token",
            target_type="token",
            target_id="" if row is None else str(row.id),
            outcome=audit.Outcome.FAILURE,
            detail={"reason": refused},
            now=now,
        )
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    scopes = frozenset(row.scopes)
    if row.is_device:
        bound = row.unit_id or row.sensor_id
        return Principal(
            subject=f"device:{bound}",
            roles=frozenset({Role.DEVICE}),
            user_id=row.user_id,
            unit_id=row.unit_id,
            sensor_id=row.sensor_id,
            scopes=scopes,
            token_id=row.id,
        )
    assert owner is not None
    return users.principal_of(owner, scopes=scopes, token_id=row.id)


def list_tokens(session: Session) -> list[tuple[ApiTokenRow, str | None]]:
    """Every token, newest first, with its user's name."""
    query = (
        select(ApiTokenRow, UserRow.username)
        .outerjoin(UserRow, UserRow.id == ApiTokenRow.user_id)
        .order_by(ApiTokenRow.id.desc())
    )
    return [(row, username) for row, username in session.execute(query)]


def revoke(session: Session, *, token_id: int, actor: str, now: datetime) -> ApiTokenRow:
    """Refuse a token from now on; revoking it again changes nothing."""
    row = get_or_raise(session, ApiTokenRow, token_id, TokenNotFound(f"no token {token_id}"))
    if row.revoked_at is None:
        row.revoked_at = now
        audit.append(
            session,
            actor=actor,
            action="token.revoke",
            target_type="token",
            target_id=str(token_id),
            outcome=audit.Outcome.SUCCESS,
            now=now,
        )
    return row
