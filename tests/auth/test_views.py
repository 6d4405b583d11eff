"""The auth endpoints over HTTP: login, cookies and CSRF, me, tokens, users, the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lakeguard.api.app import create_app
from lakeguard.auth import audit, sessions
from lakeguard.auth import service as users
from lakeguard.auth.policy import CSRF_HEADER
from lakeguard.auth.roles import Role
from lakeguard.config import Settings
from lakeguard.store.session import make_sessionmaker, transaction
from tests.auth.helpers import NOW, PASSWORD, browser_login, login_headers

COOKIE = "lakeguard_session"


def _add_user(engine: Engine, username: str, *roles: Role) -> None:
    with transaction(make_sessionmaker(engine)) as session:
        users.create(
            session, username=username, roles=roles, password=PASSWORD, actor="test", now=NOW
        )


def _audit(engine: Engine, action: str) -> list[audit.AuditRow]:
    with make_sessionmaker(engine)() as session:
        return audit.list_records(session, action=action)


def test_login_sets_a_strict_cookie_and_returns_the_csrf_token(
    client: TestClient, db_engine: Engine
) -> None:
    _add_user(db_engine, "zhou", Role.COMMANDER, Role.DISPATCHER)
    response = client.post("/api/v1/auth/login", json={"username": "zhou", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert (body["username"], body["roles"]) == ("zhou", ["commander", "dispatcher"])
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=43200" in cookie
    assert "Secure" not in cookie  # development serves plain http://localhost
    me = client.get("/api/v1/auth/me").json()
    assert me["subject"] == "zhou" and me["csrf_token"] == body["csrf_token"]
    assert me["scopes"] == []


def test_production_cookies_are_secure(db_engine: Engine, database_url: str) -> None:
    _add_user(db_engine, "zhou", Role.COMMANDER)
    settings = Settings(database_url=database_url, environment="production", secret_key="s" * 32)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        response = client.post(
            "/api/v1/auth/login", json={"username": "zhou", "password": PASSWORD}
        )
    assert "Secure" in response.headers["set-cookie"]


def test_failed_logins_are_401_problems(client: TestClient, db_engine: Engine) -> None:
    _add_user(db_engine, "zhou", Role.COMMANDER)
    for username, password in (("zhou", "not the password"), ("nobody", PASSWORD)):
        response = client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert "set-cookie" not in response.headers
    with transaction(make_sessionmaker(db_engine)) as session:
        users.disable(session, username="zhou", actor="test", now=NOW)
    response = client.post("/api/v1/auth/login", json={"username": "zhou", "password": PASSWORD})
    assert response.status_code == 401
    assert [r.outcome for r in _audit(db_engine, "auth.login")] == ["failure"] * 3


def test_cookie_writes_need_the_csrf_header(client: TestClient, db_engine: Engine) -> None:
    csrf = browser_login(client, db_engine, Role.ADMIN)
    new_user = {"username": "wu", "roles": ["guard"]}
    missing = client.post("/api/v1/users", json=new_user)
    wrong = client.post("/api/v1/users", json=new_user, headers={CSRF_HEADER: "guess"})
    for response in (missing, wrong):
        assert response.status_code == 403
        assert response.json()["detail"] == f"missing or wrong {CSRF_HEADER} header"
    assert client.post("/api/v1/users", json=new_user, headers=csrf).status_code == 201
    denials = _audit(db_engine, "access.denied")
    assert [d.target_id for d in denials] == ["POST /api/v1/users"] * 2
    # Reads need no CSRF token; bearer writes need none either (no cookie is sent by others).
    assert client.get("/api/v1/users").status_code == 200
    bearer = login_headers(db_engine, Role.ADMIN)
    fresh = TestClient(client.app)
    assert (
        fresh.post(
            "/api/v1/users", json={**new_user, "username": "wu2"}, headers=bearer
        ).status_code
        == 201
    )


def test_logout_ends_the_session(client: TestClient, db_engine: Engine) -> None:
    csrf = browser_login(client, db_engine, Role.GUARD)
    assert client.post("/api/v1/auth/logout").status_code == 403  # CSRF applies to logout
    response = client.post("/api/v1/auth/logout", headers=csrf)
    assert response.status_code == 204
    assert f'{COOKIE}=""' in response.headers["set-cookie"]
    client.cookies.clear()
    # The old cookie is refused even if a client keeps sending it.
    assert client.get("/api/v1/auth/me").status_code == 401


def test_an_old_cookie_is_refused_after_its_session_expired(
    client: TestClient, db_engine: Engine
) -> None:
    _add_user(db_engine, "zhou", Role.COMMANDER)
    with transaction(make_sessionmaker(db_engine)) as session:
        started = datetime.now(UTC) - timedelta(hours=13)
        result = sessions.login(
            session, username="zhou", password=PASSWORD, lifetime=timedelta(hours=12), now=started
        )
    assert result is not None
    client.cookies.set(COOKIE, result.session_id)
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["title"] == "Not authenticated"


def test_admin_issues_lists_and_revokes_tokens(client: TestClient, db_engine: Engine) -> None:
    admin = login_headers(db_engine, Role.ADMIN)
    _add_user(db_engine, "zheng", Role.FIELD_OFFICER)
    issued = client.post(
        "/api/v1/auth/tokens",
        json={"username": "zheng", "scopes": ["positions", "api"], "unit_id": "foot-9"},
        headers=admin,
    )
    assert issued.status_code == 201
    body = issued.json()
    assert body["scopes"] == ["api", "positions"] and body["unit_id"] == "foot-9"
    device = {"Authorization": f"Bearer {body['token']}"}
    me = client.get("/api/v1/auth/me", headers=device).json()
    assert (me["subject"], me["roles"], me["username"]) == ("device:foot-9", ["device"], None)

    listed = client.get("/api/v1/auth/tokens", headers=admin).json()
    assert body["id"] in [t["id"] for t in listed]
    assert all("token" not in t for t in listed)

    assert client.delete(f"/api/v1/auth/tokens/{body['id']}", headers=admin).status_code == 204
    assert client.get("/api/v1/auth/me", headers=device).status_code == 401
    missing = client.delete("/api/v1/auth/tokens/424242", headers=admin)
    assert missing.status_code == 404


def test_token_requests_are_validated(client: TestClient, db_engine: Engine) -> None:
    admin = login_headers(db_engine, Role.ADMIN)
    cases = [
        ({"username": "ghost", "scopes": ["api"]}, 422),
        ({"scopes": ["api"]}, 422),
        ({"sensor_id": "gate-1", "scopes": ["root"]}, 422),
    ]
    for body, status in cases:
        response = client.post("/api/v1/auth/tokens", json=body, headers=admin)
        assert response.status_code == status, (body, response.text)


def test_admin_creates_and_lists_users(client: TestClient, db_engine: Engine) -> None:
    admin = login_headers(db_engine, Role.ADMIN)
    created = client.post(
        "/api/v1/users",
        json={"username": "feng", "roles": ["field_officer"], "unit_id": "foot-2",
              "password": PASSWORD},
        headers=admin,
    )  # fmt: skip
    assert created.status_code == 201
    assert created.json()["roles"] == ["field_officer"] and created.json()["unit_id"] == "foot-2"
    listed = client.get("/api/v1/users", headers=admin).json()
    assert "feng" in [u["username"] for u in listed]
    assert all("password" not in str(u) for u in listed)
    again = client.post(
        "/api/v1/users", json={"username": "feng", "roles": ["guard"]}, headers=admin
    )
    assert again.status_code == 409
    weak = {"username": "chen", "roles": ["guard"], "password": "short"}
    assert client.post("/api/v1/users", json=weak, headers=admin).status_code == 422
    device = {"username": "chen", "roles": ["device"]}
    assert client.post("/api/v1/users", json=device, headers=admin).json()["detail"] == (
        "the device role belongs to device tokens, not to users"
    )
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "feng", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_reading_the_audit_log_is_audited(client: TestClient, db_engine: Engine) -> None:
    auditor = login_headers(db_engine, Role.AUDITOR)
    resident = login_headers(db_engine, Role.RESIDENT)
    assert client.get("/api/v1/audit", headers=resident).status_code == 403
    first = client.get("/api/v1/audit", headers=auditor, params={"limit": 50}).json()
    assert [r["action"] for r in first][:1] == ["access.denied"]
    assert first[0]["actor"].startswith("resident-")
    second = client.get("/api/v1/audit", headers=auditor, params={"limit": 1}).json()
    assert second[0]["action"] == "audit.read"
    assert second[0]["actor"].startswith("auditor-")
    assert second[0]["detail"]["limit"] == 50
