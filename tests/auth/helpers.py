"""Users and credentials for API tests: a bearer token, or a logged-in browser session.

headers = login_headers(db_engine, Role.DISPATCHER)
client.get("/api/v1/incidents", headers=headers)

csrf = browser_login(client, db_engine, Role.COMMANDER)  # client now holds the cookie
client.post("/api/v1/...", json=..., headers=csrf)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lakeguard.auth import service as users
from lakeguard.auth import tokens
from lakeguard.auth.policy import CSRF_HEADER
from lakeguard.auth.roles import Role
from lakeguard.store.session import make_sessionmaker, transaction

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"

_serial = itertools.count(1)


def _factory(database: Engine | sessionmaker[Session]) -> sessionmaker[Session]:
    return make_sessionmaker(database) if isinstance(database, Engine) else database


def login_headers(
    database: Engine | sessionmaker[Session],
    role: Role,
    *more_roles: Role,
    unit_id: str | None = None,
    sensor_id: str | None = None,
    scopes: Iterable[str] = ("api",),
    username: str | None = None,
) -> dict[str, str]:
    """Bearer headers for a new user holding ``role`` (and ``more_roles``), scope "api".

    The user is called ``username`` or, by default, ``<role>-<n>`` with a unique n.

    ``Role.DEVICE`` gives a device token instead, bound to ``unit_id`` or ``sensor_id``
    (a unit ``unit-1`` when neither is given), owned by a user without roles of note.
    For users, ``unit_id`` is the unit the user is (a field officer's own unit).
    """
    with transaction(_factory(database)) as session:
        if role == Role.DEVICE:
            owner = users.create(
                session,
                username=username or f"device-owner-{next(_serial)}",
                roles=[Role.FIELD_OFFICER],
                password=None,
                actor="test",
                now=NOW,
            )
            _, secret = tokens.issue(
                session,
                user=owner,
                scopes=scopes,
                unit_id=unit_id if unit_id or sensor_id else "unit-1",
                sensor_id=sensor_id,
                actor="test",
                now=NOW,
            )
        else:
            user = users.create(
                session,
                username=username or f"{role.value}-{next(_serial)}",
                roles=[role, *more_roles],
                password=None,
                unit_id=unit_id,
                actor="test",
                now=NOW,
            )
            _, secret = tokens.issue(session, user=user, scopes=scopes, actor="test", now=NOW)
    return {"Authorization": f"Bearer {secret}"}


def browser_login(
    client: TestClient,
    database: Engine | sessionmaker[Session],
    role: Role,
    *more_roles: Role,
    unit_id: str | None = None,
) -> dict[str, str]:
    """Log ``client`` in as a new user through POST /api/v1/auth/login, as a browser would.

    The client keeps the session cookie; the returned header carries the CSRF token that
    writes (POST, PUT, PATCH, DELETE) must send.
    """
    username = f"{role.value}-{next(_serial)}"
    with transaction(_factory(database)) as session:
        users.create(
            session,
            username=username,
            roles=[role, *more_roles],
            password=PASSWORD,
            unit_id=unit_id,
            actor="test",
            now=NOW,
        )
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {CSRF_HEADER: response.json()["csrf_token"]}
