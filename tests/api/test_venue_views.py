"""The venue API over a real database holding the tiny park."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lakeguard.api.app import create_app
from lakeguard.auth.roles import Role
from lakeguard.config import Settings
from lakeguard.store.session import make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario
from lakeguard.venue.service import store_scenario
from tests.auth.helpers import login_headers
from tests.factories import DIAGONAL_M, A, C, lonlat


@pytest.fixture
def client(db_engine: Engine, database_url: str, tiny: Scenario) -> Iterator[TestClient]:
    with transaction(make_sessionmaker(db_engine)) as session:
        store_scenario(session, scenario=tiny, now=datetime(2024, 5, 1, tzinfo=UTC))
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        client.headers.update(login_headers(db_engine, Role.DISPATCHER))
        yield client


def test_venue_summary(client: TestClient) -> None:
    body = client.get("/api/v1/venue").json()
    assert body["id"] == "tinypark"
    assert (body["points"], body["segments"], body["hotspots"]) == (1, 3, 1)


def test_layers_are_geojson(client: TestClient) -> None:
    areas = client.get("/api/v1/venue/layers/areas").json()
    assert areas["type"] == "FeatureCollection"
    assert [f["properties"]["id"] for f in areas["features"]] == ["avenue", "lake", "isle"]
    missing = client.get("/api/v1/venue/layers/rivers")
    assert missing.status_code == 422
    assert missing.headers["content-type"] == "application/problem+json"
    assert "layer" in missing.json()["detail"]


def test_travel_time(client: TestClient) -> None:
    a, c = ",".join(map(str, lonlat(A))), ",".join(map(str, lonlat(C)))
    body = client.get("/api/v1/venue/travel-time", params={"from": a, "to": c}).json()
    assert body["seconds"] == pytest.approx(DIAGONAL_M / 1.34, rel=1e-3)
    bad = client.get("/api/v1/venue/travel-time", params={"from": "east", "to": c})
    assert bad.status_code == 422
    assert bad.json()["detail"] == "from: expected 'lon,lat', got 'east'"


def test_coverage(client: TestClient) -> None:
    body = client.get("/api/v1/venue/coverage", params={"seconds": 60}).json()
    assert [c["area_id"] for c in body] == ["avenue"]
    assert 0 < body[0]["share"] < 1


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/api/v1/venue" in client.get("/openapi.json").json()["paths"]


def test_no_venue_loaded_is_a_clear_503(db_engine: Engine, database_url: str) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        response = client.get("/api/v1/venue", headers=login_headers(db_engine, Role.GUARD))
    assert response.status_code == 503
    assert response.json()["title"] == "No venue loaded"
