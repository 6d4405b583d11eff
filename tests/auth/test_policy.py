"""Route policies: deny by default, roles, scopes, device tokens in queries and forms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lakeguard.api.app import create_app
from lakeguard.auth.policy import (
    MissingPolicyError,
    api_routes,
    assert_every_route_has_a_policy,
    public,
    require,
)
from lakeguard.auth.roles import Principal, Role
from lakeguard.config import Settings
from tests.auth.helpers import login_headers

# Annotations are strings here (postponed evaluation), so what they name lives at module level.
Tracker = Annotated[
    Principal, Depends(require(Role.DEVICE, scope="positions", allow_query_token=True))
]
StrictDevice = Annotated[Principal, Depends(require(Role.DEVICE, scope="positions"))]


def _device_routes() -> APIRouter:
    """What a tracker endpoint looks like (OsmAnd sends id, lat, lon… and the token)."""
    router = APIRouter(prefix="/api/v1/test")

    @router.post("/osmand")
    def osmand(who: Tracker) -> dict[str, str | None]:
        return {"unit": who.unit_id}

    @router.post("/strict")
    def strict(who: StrictDevice) -> dict[str, str | None]:
        return {"unit": who.unit_id}

    return router


@pytest.fixture
def device_client(db_engine: Engine, database_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url))
    app.include_router(_device_routes())
    with TestClient(app) as client:
        yield client


def _secret(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def test_query_and_form_tokens_only_where_the_route_allows(
    device_client: TestClient, db_engine: Engine
) -> None:
    token = _secret(login_headers(db_engine, Role.DEVICE, unit_id="boat-4", scopes=["positions"]))
    query = device_client.post("/api/v1/test/osmand", params={"token": token, "lat": "30.25"})
    assert query.status_code == 200 and query.json() == {"unit": "boat-4"}
    form = device_client.post("/api/v1/test/osmand", data={"token": token, "lat": "30.25"})
    assert form.status_code == 200 and form.json() == {"unit": "boat-4"}
    header = device_client.post("/api/v1/test/strict", headers={"Authorization": f"Bearer {token}"})
    assert header.status_code == 200
    for response in (
        device_client.post("/api/v1/test/strict", params={"token": token}),
        device_client.post("/api/v1/test/strict", data={"token": token}),
    ):
        assert response.status_code == 401


def test_scopes_keep_device_tokens_to_their_purpose(
    device_client: TestClient, db_engine: Engine
) -> None:
    positions_only = login_headers(db_engine, Role.DEVICE, scopes=["positions"])
    assert device_client.post("/api/v1/test/strict", headers=positions_only).status_code == 200
    me = device_client.get("/api/v1/auth/me", headers=positions_only)
    assert me.status_code == 403
    assert me.json()["detail"] == "this token lacks the scope 'api'"
    api_only = login_headers(db_engine, Role.DEVICE, scopes=["api"])
    refused = device_client.post("/api/v1/test/strict", headers=api_only)
    assert refused.json()["detail"] == "this token lacks the scope 'positions'"
    officer = login_headers(db_engine, Role.FIELD_OFFICER, scopes=["positions"])
    assert device_client.post("/api/v1/test/strict", headers=officer).json()["detail"] == (
        "this needs one of the roles: device"
    )


def test_authentication_comes_before_body_validation(client: TestClient) -> None:
    """A well-formed body is checked after the policy: anonymous callers get 401, not 422."""
    assert client.post("/api/v1/users", json={}).status_code == 401
    assert client.post("/api/v1/users").status_code == 401
    # FastAPI parses JSON before any dependency runs, so malformed JSON is answered first.
    malformed = client.post(
        "/api/v1/users", content=b"{", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422


def test_a_bearer_token_wins_over_a_cookie(client: TestClient, db_engine: Engine) -> None:
    client.cookies.set("lakeguard_session", "stale")
    headers = login_headers(db_engine, Role.GUARD)
    assert client.get("/api/v1/auth/me", headers=headers).json()["roles"] == ["guard"]
    assert client.get("/api/v1/auth/me").status_code == 401


def test_routes_without_a_policy_are_named() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/api/v1/x", dependencies=[Depends(require(Role.ADMIN))])

    @router.get("/guarded")
    def guarded() -> None: ...

    @app.get("/open", dependencies=[Depends(public())])
    def open_route() -> None: ...

    app.include_router(router)
    assert_every_route_has_a_policy(app)
    assert {r.path for r in api_routes(app)} == {"/open", "/api/v1/x/guarded"}

    @app.api_route("/forgotten", methods=["GET", "POST"])
    def forgotten() -> None: ...

    @app.get("/confused", dependencies=[Depends(public()), Depends(require(Role.ADMIN))])
    def confused() -> None: ...

    with pytest.raises(MissingPolicyError) as raised:
        assert_every_route_has_a_policy(app)
    lines = str(raised.value).splitlines()[1:]
    assert [line.strip() for line in lines] == [
        "GET /forgotten: no policy",
        "POST /forgotten: no policy",
        "GET /confused: both public() and require()",
    ]


def test_policies_are_checked_when_declared() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        require()
    with pytest.raises(ValueError, match="unknown scope 'position'"):
        require(Role.DEVICE, scope="position")


def test_the_app_declares_a_policy_on_every_route() -> None:
    app = create_app(Settings())
    assert_every_route_has_a_policy(app)
    assert {"/api/v1/health", "/api/v1/auth/login"} <= {
        r.path for r in api_routes(app) if all(p.public for p in r.policies)
    }
