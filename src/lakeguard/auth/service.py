"""Users: passwords (argon2id), roles, the unit a user is, disabling."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lakeguard.auth import audit
from lakeguard.auth.models import UserRoleRow, UserRow, WebSessionRow
from lakeguard.auth.roles import USER_ROLES, Principal, Role
from lakeguard.errors import Conflict, Invalid, NotFound

MIN_PASSWORD_LENGTH = 12

# argon2-cffi's defaults are argon2id with the RFC 9106 low-memory parameters.
_hasher = PasswordHasher()
# Verified against when the username is unknown, so that a miss costs as long as a hit.
_DUMMY_HASH = _hasher.hash("lakeguard: no such user")


class UserExists(Conflict):
    title = "User exists"


class UserNotFound(NotFound):
    title = "No such user"


class InvalidUser(Invalid):
    """A user that cannot be created as asked: weak password, unknown or no role."""

    title = "Invalid user"


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUser(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def check_password(user: UserRow | None, password: str) -> bool:
    """Whether ``password`` is the user's; takes the same time when there is no such user."""
    stored = user.password_hash if user is not None else None
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def rehash_if_needed(user: UserRow, password: str) -> None:
    """Store a fresh hash when the hashing parameters have been raised since the last one."""
    if user.password_hash is not None and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)


def _user_roles(roles: Iterable[Role | str]) -> list[Role]:
    chosen = sorted({Role(r) for r in roles})
    if not chosen:
        raise InvalidUser("a user needs at least one role")
    if Role.DEVICE in chosen:
        raise InvalidUser("the device role belongs to device tokens, not to users")
    assert set(chosen) <= set(USER_ROLES)
    return chosen


def create(
    session: Session,
    *,
    username: str,
    roles: Iterable[Role | str],
    password: str | None,
    unit_id: str | None = None,
    actor: str,
    now: datetime,
) -> UserRow:
    """A new user. Without a password the user holds tokens only and cannot log in."""
    chosen = _user_roles(roles)
    if get_by_username(session, username=username) is not None:
        raise UserExists(f"user {username!r} already exists")
    user = UserRow(
        username=username,
        password_hash=hash_password(password) if password is not None else None,
        unit_id=unit_id,
        disabled=False,
        created_at=now,
        role_rows=[UserRoleRow(role=r.value) for r in chosen],
    )
    session.add(user)
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="user.create",
        target_type="user",
        target_id=username,
        outcome=audit.Outcome.SUCCESS,
        detail={"roles": [r.value for r in chosen], "unit_id": unit_id},
        now=now,
    )
    return user


def get_by_username(session: Session, *, username: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.username == username))


def get(session: Session, *, user_id: int) -> UserRow | None:
    return session.get(UserRow, user_id)


def list_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.username)))


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(UserRow)) or 0


def disable(session: Session, *, username: str, actor: str, now: datetime) -> UserRow:
    """Refuse the user's logins and tokens from now on, and end their browser sessions."""
    user = get_by_username(session, username=username)
    if user is None:
        raise UserNotFound(f"no user {username!r}")
    user.disabled = True
    session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user.id))
    audit.append(
        session,
        actor=actor,
        action="user.disable",
        target_type="user",
        target_id=username,
        outcome=audit.Outcome.SUCCESS,
        now=now,
    )
    return user


def principal_of(
    user: UserRow,
    *,
    scopes: frozenset[str] = frozenset(),
    token_id: int | None = None,
    session_key: str | None = None,
    csrf_token: str | None = None,
) -> Principal:
    """The principal a user acts as, through a token or a browser session."""
    return Principal(
        subject=user.username,
        roles=user.roles,
        user_id=user.id,
        unit_id=user.unit_id,
        scopes=scopes,
        token_id=token_id,
        session_key=session_key,
        csrf_token=csrf_token,
    )
