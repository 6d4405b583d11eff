"""Users: argon2id hashes, roles, validation, disabling."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from lakeguard.auth import audit
from lakeguard.auth import service as users
from lakeguard.auth.roles import Role
from lakeguard.store.session import make_sessionmaker, transaction
from tests.auth.helpers import NOW, PASSWORD


def test_passwords_are_argon2id_and_salted() -> None:
    first, second = users.hash_password(PASSWORD), users.hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and first != second
    assert PASSWORD not in first


def test_short_passwords_are_refused() -> None:
    with pytest.raises(users.InvalidUser, match="at least 12"):
        users.hash_password("short-pass")


def test_create_stores_roles_unit_and_hash(db_engine: Engine) -> None:
    factory = make_sessionmaker(db_engine)
    with transaction(factory) as session:
        users.create(
            session,
            username="li.wei",
            roles=[Role.FIELD_OFFICER, "guard", Role.FIELD_OFFICER],
            password=PASSWORD,
            unit_id="foot-07",
            actor="admin",
            now=NOW,
        )
    with factory() as session:
        user = users.get_by_username(session, username="li.wei")
        assert user is not None
        assert user.roles == {Role.FIELD_OFFICER, Role.GUARD}
        assert user.unit_id == "foot-07" and not user.disabled
        assert users.check_password(user, PASSWORD)
        assert not users.check_password(user, PASSWORD + "!")
        assert [u.username for u in users.list_users(session)] == ["li.wei"]
        (record,) = audit.list_records(session)
        assert (record.actor, record.action, record.target_id) == ("admin", "user.create", "li.wei")
        assert record.detail == {"roles": ["field_officer", "guard"], "unit_id": "foot-07"}


@pytest.mark.parametrize(
    ("roles", "message"),
    [([], "at least one role"), ([Role.DEVICE], "device tokens"), (["mayor"], "mayor")],
)
def test_roles_must_be_user_roles(db_engine: Engine, roles: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message), transaction(make_sessionmaker(db_engine)) as s:
        users.create(s, username="x", roles=roles, password=None, actor="admin", now=NOW)


def test_usernames_are_unique(db_engine: Engine) -> None:
    factory = make_sessionmaker(db_engine)
    with transaction(factory) as session:
        users.create(
            session, username="wang", roles=[Role.GUARD], password=None, actor="a", now=NOW
        )
    with pytest.raises(users.UserExists), transaction(factory) as session:
        users.create(
            session, username="wang", roles=[Role.ADMIN], password=None, actor="a", now=NOW
        )


def test_a_user_without_password_cannot_log_in_with_any() -> None:
    user = users.UserRow(username="svc", password_hash=None)
    assert not users.check_password(user, "")
    assert not users.check_password(user, "lakeguard: no such user")
    assert not users.check_password(None, "lakeguard: no such user")


def test_disable_unknown_user(db_engine: Engine) -> None:
    with pytest.raises(users.UserNotFound), transaction(make_sessionmaker(db_engine)) as session:
        users.disable(session, username="ghost", actor="admin", now=NOW)
