"""Every write to the API leaves an audit record naming actor, method, path and status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lakeguard.api.app import create_app
from lakeguard.auth import audit
from lakeguard.auth.policy import require
from lakeguard.auth.roles import Principal, Role
from lakeguard.config import Settings
from lakeguard.store.session import make_sessionmaker
from tests.auth.helpers import login_headers

Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


def _writes(engine: Engine) -> list[tuple[str, str, str, dict[str, object]]]:
    with make_sessionmaker(engine)() as session:
        rows = audit.list_records(session, action="http.write")
    return [(r.actor, r.target_id, r.outcome, r.detail) for r in reversed(rows)]


def test_writes_are_recorded_with_their_actor(client: TestClient, db_engine: Engine) -> None:
    admin = login_headers(db_engine, Role.ADMIN, username="ma")
    guard = login_headers(db_engine, Role.GUARD, username="niu")
    client.post("/api/v1/users", json={"username": "han", "roles": ["guard"]}, headers=admin)
    client.post("/api/v1/users", json={"username": "yang", "roles": ["guard"]}, headers=guard)
    client.post("/api/v1/users", json={"username": "qin", "roles": ["guard"]})
    client.delete("/api/v1/auth/tokens/77", headers=admin)
    client.get("/api/v1/users", headers=admin)
    post = {"method": "POST", "path": "/api/v1/users"}
    assert _writes(db_engine) == [
        ("ma", "POST /api/v1/users", "success", {**post, "status": 201}),
        ("niu", "POST /api/v1/users", "denied", {**post, "status": 403}),
        ("anonymous", "POST /api/v1/users", "denied", {**post, "status": 401}),
        ("ma", "DELETE /api/v1/auth/tokens/77", "failure",
         {"method": "DELETE", "path": "/api/v1/auth/tokens/77", "status": 404}),
    ]  # fmt: skip


def test_a_crash_is_recorded_as_500(db_engine: Engine, database_url: str) -> None:
    router = APIRouter()

    @router.post("/api/v1/test/crash")
    def crash(admin: Admin) -> None:
        raise RuntimeError("boom")

    app = create_app(Settings(database_url=database_url))
    app.include_router(router)
    admin = login_headers(db_engine, Role.ADMIN)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/api/v1/test/crash", headers=admin).status_code == 500
        assert client.post("/not-the-api").status_code == 404
    ((actor, target, outcome, detail),) = _writes(db_engine)
    assert (target, outcome, detail["status"]) == ("POST /api/v1/test/crash", "failure", 500)
    assert actor.startswith("admin-")
