"""Bearer tokens: hashed at rest, scoped, bound to devices, revocable, last-used time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from lakeguard.auth import audit, tokens
from lakeguard.auth import service as users
from lakeguard.auth.models import ApiTokenRow, UserRow
from lakeguard.auth.roles import Role
from lakeguard.store.session import make_sessionmaker, transaction
from tests.auth.helpers import NOW

Factory = sessionmaker[Session]


@pytest.fixture
def factory(db_engine: Engine) -> Factory:
    factory = make_sessionmaker(db_engine)
    with transaction(factory) as session:
        users.create(
            session,
            username="sun",
            roles=[Role.FIELD_OFFICER],
            password=None,
            unit_id="foot-03",
            actor="admin",
            now=NOW,
        )
    return factory


def _issue(factory: Factory, **binding: str) -> tuple[int, str]:
    with transaction(factory) as session:
        user = users.get_by_username(session, username="sun")
        row, secret = tokens.issue(
            session, user=user, scopes=["api", "positions"], actor="admin", now=NOW, **binding
        )
        return row.id, secret


def _owner(factory: Factory) -> UserRow:
    with factory() as session:
        user = users.get_by_username(session, username="sun")
        assert user is not None
        return user


def test_only_a_hash_of_the_token_is_stored(factory: Factory) -> None:
    token_id, secret = _issue(factory)
    assert secret.startswith("lg_") and len(secret) > 40
    with factory() as session:
        row = session.get(ApiTokenRow, token_id)
        assert row is not None
        assert row.token_hash == tokens.token_hash(secret) and secret not in row.token_hash
        assert row.scopes == ["api", "positions"] and row.created_by == "admin"
        (record,) = audit.list_records(session, action="token.create")
        assert secret not in str(record.detail)


def test_a_user_token_acts_as_its_user(factory: Factory) -> None:
    token_id, secret = _issue(factory)
    with transaction(factory) as session:
        principal = tokens.authenticate_token(session, secret, now=NOW)
    assert principal is not None
    assert (principal.subject, principal.roles, principal.unit_id) == (
        "sun",
        {Role.FIELD_OFFICER},
        "foot-03",
    )
    assert principal.scopes == {"api", "positions"} and principal.token_id == token_id
    assert not principal.via_session


def test_a_device_token_is_the_device_only(factory: Factory) -> None:
    _, secret = _issue(factory, unit_id="boat-2")
    with transaction(factory) as session:
        principal = tokens.authenticate_token(session, secret, now=NOW)
    assert principal is not None
    assert (principal.subject, principal.roles) == ("device:boat-2", {Role.DEVICE})
    assert (principal.unit_id, principal.sensor_id) == ("boat-2", None)
    _, sensor_secret = _issue(factory, sensor_id="gate-n1")
    with transaction(factory) as session:
        sensor = tokens.authenticate_token(session, sensor_secret, now=NOW)
    assert sensor is not None
    assert (sensor.subject, sensor.unit_id, sensor.sensor_id) == ("device:gate-n1", None, "gate-n1")


def test_a_sensor_token_needs_no_user(factory: Factory) -> None:
    with transaction(factory) as session:
        _, secret = tokens.issue(
            session, user=None, scopes=["observations"], sensor_id="cam-7", actor="a", now=NOW
        )
        principal = tokens.authenticate_token(session, secret, now=NOW)
    assert principal is not None and principal.user_id is None


@pytest.mark.parametrize(
    ("scopes", "binding", "message"),
    [
        ([], {}, "scopes must be"),
        (["api", "everything"], {}, "scopes must be"),
        (["api"], {"unit_id": "u", "sensor_id": "s"}, "not both"),
    ],
)
def test_bad_requests_are_refused(
    factory: Factory, scopes: list[str], binding: dict[str, str], message: str
) -> None:
    with pytest.raises(tokens.InvalidToken, match=message), transaction(factory) as session:
        tokens.issue(session, user=_owner(factory), scopes=scopes, actor="a", now=NOW, **binding)
    with pytest.raises(tokens.InvalidToken, match="needs a user"), transaction(factory) as s:
        tokens.issue(s, user=None, scopes=["api"], actor="a", now=NOW)


def test_unknown_revoked_and_disabled_are_refused_and_audited(factory: Factory) -> None:
    token_id, secret = _issue(factory)
    with transaction(factory) as session:
        assert tokens.authenticate_token(session, "lg_made-up", now=NOW) is None
        tokens.revoke(session, token_id=token_id, actor="admin", now=NOW)
        tokens.revoke(session, token_id=token_id, actor="admin", now=NOW + timedelta(hours=1))
    with transaction(factory) as session:
        assert tokens.authenticate_token(session, secret, now=NOW) is None
        row = session.get(ApiTokenRow, token_id)
        assert row is not None and row.revoked_at == NOW  # revoking again changes nothing
        with pytest.raises(tokens.TokenNotFound):
            tokens.revoke(session, token_id=9999, actor="admin", now=NOW)
    _, other = _issue(factory, unit_id="foot-03")
    with transaction(factory) as session:
        users.disable(session, username="sun", actor="admin", now=NOW)
    with transaction(factory) as session:
        assert tokens.authenticate_token(session, other, now=NOW) is None
    with factory() as session:
        refusals = audit.list_records(session, action="auth.token")
        assert [r.detail["reason"] for r in refusals] == [
            "user disabled",
            "revoked",
            "unknown token",
        ]
        assert [r.action for r in audit.list_records(session, action="token.revoke")] == [
            "token.revoke"
        ]


def test_last_used_is_kept_to_the_minute(factory: Factory) -> None:
    token_id, secret = _issue(factory)

    def use_at(offset: timedelta) -> object:
        with transaction(factory) as session:
            assert tokens.authenticate_token(session, secret, now=NOW + offset) is not None
        with factory() as session:
            return session.scalars(
                select(ApiTokenRow.last_used_at).where(ApiTokenRow.id == token_id)
            ).one()

    assert use_at(timedelta(0)) == NOW
    assert use_at(timedelta(seconds=59)) == NOW
    assert use_at(timedelta(seconds=60)) == NOW + timedelta(seconds=60)


def test_list_tokens_names_their_users(factory: Factory) -> None:
    _issue(factory)
    with transaction(factory) as session:
        tokens.issue(
            session, user=None, scopes=["observations"], sensor_id="s1", actor="a", now=NOW
        )
    with factory() as session:
        listed = [(row.sensor_id, name) for row, name in tokens.list_tokens(session)]
    assert listed == [("s1", None), (None, "sun")]
