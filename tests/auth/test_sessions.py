"""Browser sessions: login, expiry, disabling, logout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from lakeguard.auth import audit, sessions
from lakeguard.auth import service as users
from lakeguard.auth.models import AuditRow, WebSessionRow
from lakeguard.auth.roles import Role
from lakeguard.store.session import make_sessionmaker, transaction
from tests.auth.helpers import NOW, PASSWORD

LIFETIME = timedelta(hours=12)
Factory = sessionmaker[Session]


@pytest.fixture
def factory(db_engine: Engine) -> Factory:
    factory = make_sessionmaker(db_engine)
    with transaction(factory) as session:
        users.create(
            session,
            username="zhao",
            roles=[Role.DISPATCHER],
            password=PASSWORD,
            unit_id=None,
            actor="admin",
            now=NOW,
        )
    return factory


def _login(
    factory: Factory, password: str = PASSWORD, username: str = "zhao"
) -> sessions.LoginResult | None:
    with transaction(factory) as session:
        return sessions.login(
            session, username=username, password=password, lifetime=LIFETIME, now=NOW
        )


def _last_audit(factory: Factory) -> AuditRow:
    with factory() as session:
        return audit.list_records(session, limit=1)[0]


def test_good_password_opens_a_session(factory: Factory) -> None:
    result = _login(factory)
    assert result is not None and result.expires_at == NOW + LIFETIME
    with transaction(factory) as session:
        principal = sessions.authenticate_session(session, result.session_id, now=NOW)
        stored = session.scalars(select(WebSessionRow)).one()
    assert principal is not None
    assert (principal.subject, principal.roles) == ("zhao", {Role.DISPATCHER})
    assert principal.csrf_token == result.csrf_token and principal.scopes == frozenset()
    # The database keeps a hash of the session id, not the id.
    assert stored.id_hash == sessions.session_key(result.session_id) != result.session_id
    record = _last_audit(factory)
    assert (record.action, record.actor, record.outcome) == ("auth.login", "zhao", "success")


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [("zhao", "wrong password!!", "wrong password"), ("qian", PASSWORD, "unknown user")],
)
def test_bad_logins_fail_and_are_audited(
    factory: Factory, username: str, password: str, reason: str
) -> None:
    assert _login(factory, password, username) is None
    record = _last_audit(factory)
    assert (record.action, record.actor, record.outcome) == ("auth.login", username, "failure")
    assert record.detail == {"reason": reason}


def test_disabled_users_cannot_log_in_and_lose_their_sessions(factory: Factory) -> None:
    earlier = _login(factory)
    assert earlier is not None
    with transaction(factory) as session:
        users.disable(session, username="zhao", actor="admin", now=NOW)
    assert _login(factory) is None
    assert _last_audit(factory).detail == {"reason": "disabled"}
    with transaction(factory) as session:
        assert sessions.authenticate_session(session, earlier.session_id, now=NOW) is None


def test_sessions_expire(factory: Factory) -> None:
    result = _login(factory)
    assert result is not None
    just_before = NOW + LIFETIME - timedelta(microseconds=1)
    with transaction(factory) as session:
        assert sessions.authenticate_session(session, result.session_id, now=just_before)
    with transaction(factory) as session:
        assert sessions.authenticate_session(session, result.session_id, now=NOW + LIFETIME) is None
    with factory() as session:  # an expired session is removed when it is next presented
        assert session.scalars(select(WebSessionRow)).all() == []


def test_purge_removes_only_expired_sessions(factory: Factory) -> None:
    _login(factory)
    with transaction(factory) as session:
        assert sessions.purge_expired(session, now=NOW + timedelta(hours=1)) == 0
        assert sessions.purge_expired(session, now=NOW + LIFETIME) == 1


def test_logout_ends_the_session(factory: Factory) -> None:
    result = _login(factory)
    assert result is not None
    with transaction(factory) as session:
        principal = sessions.authenticate_session(session, result.session_id, now=NOW)
        assert principal is not None
        assert sessions.logout(session, principal=principal, now=NOW)
    with transaction(factory) as session:
        assert sessions.authenticate_session(session, result.session_id, now=NOW) is None
    assert _last_audit(factory).action == "auth.logout"
