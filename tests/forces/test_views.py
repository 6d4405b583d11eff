"""The unit API and the tracker protocol, over a real database holding the tiny park."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lakeguard.api.app import create_app
from lakeguard.auth.roles import Role
from lakeguard.config import Settings
from lakeguard.forces.engine import post_locations
from lakeguard.forces.service import get_unit, track
from lakeguard.venue.loader import Scenario
from tests.auth.helpers import login_headers
from tests.factories import lonlat

BOAT_AT = lonlat((300, 200))


@pytest.fixture
def client(sessions: sessionmaker[Session], database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client


def ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


def by_id(units: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {u["id"]: u for u in units}


def test_list_units_with_stale_flags_and_filters(
    client: TestClient, db_engine: Engine, tiny: Scenario
) -> None:
    reader = login_headers(db_engine, Role.AUDITOR)
    units = by_id(client.get("/api/v1/units", headers=reader).json())
    assert set(units) == {"w-p01", "boat-1", "team-1"}
    officer = units["w-p01"]
    assert (officer["stale"], officer["position"], officer["position_age_s"]) == (True, None, None)
    assert officer["location"] == {
        "lon": post_locations(tiny.posts)["pt-a"][0], "lat": post_locations(tiny.posts)["pt-a"][1],
        "source": "home_post", "reason": "no_position_home_post",
    }  # fmt: skip
    assert units["team-1"]["location"] is None and units["team-1"]["company"] == "acme"
    for query, expected in [("kind=boat", ["boat-1"]), ("capability=water_rescue", ["boat-1"]),
                            ("station=west", ["w-p01"]), ("status=off_duty", [])]:  # fmt: skip
        found = client.get(f"/api/v1/units?{query}", headers=reader).json()
        assert [u["id"] for u in found] == expected, query
    bad = client.get("/api/v1/units?kind=spaceship", headers=reader)
    assert bad.status_code == 422 and "kind" in bad.json()["detail"]


def test_reads_need_a_staff_role(client: TestClient, db_engine: Engine) -> None:
    assert client.get("/api/v1/units").status_code == 401
    assert (
        client.get("/api/v1/units", headers=login_headers(db_engine, Role.RESIDENT)).status_code
        == 403
    )
    labels = client.get("/api/v1/units/status-labels", headers=login_headers(db_engine, Role.GUARD))
    assert labels.status_code == 200
    assert [s["status"] for s in labels.json()["statuses"]][:2] == ["available", "assigned"]
    missing = client.get("/api/v1/units/nobody", headers=login_headers(db_engine, Role.DISPATCHER))
    assert missing.status_code == 404 and missing.json()["detail"] == "no unit 'nobody'"


NEW_UNIT = {
    "id": "e-car1", "callsign": "E-C1", "name": {"zh": "巡逻车", "en": "Patrol car"},
    "kind": "patrol_car", "mode": "vehicle", "capabilities": ["vehicle"], "station": "east",
}  # fmt: skip


def test_create_and_update_units(client: TestClient, db_engine: Engine) -> None:
    admin, commander = (
        login_headers(db_engine, Role.ADMIN),
        login_headers(db_engine, Role.COMMANDER),
    )
    assert (
        client.post(
            "/api/v1/units", json=NEW_UNIT, headers=login_headers(db_engine, Role.DISPATCHER)
        ).status_code
        == 403
    )
    created = client.post("/api/v1/units", json=NEW_UNIT, headers=admin)
    assert created.status_code == 201, created.text
    assert (created.json()["status"], created.json()["shift"], created.json()["location"]) == (
        "available",
        "24h",
        None,
    )
    twice = client.post("/api/v1/units", json=NEW_UNIT, headers=admin)
    assert (twice.status_code, twice.json()["title"]) == (409, "Unit exists")
    again = client.post("/api/v1/units", json={**NEW_UNIT, "mode": "boat"}, headers=admin)
    assert again.status_code == 422
    assert "mode: a patrol_car travels by vehicle, not boat" in again.json()["detail"]
    assert "id: a unit 'e-car1' exists already" in again.json()["detail"]
    invalid = client.post(
        "/api/v1/units", json={**NEW_UNIT, "capabilities": ["laser"]}, headers=admin
    )
    assert invalid.status_code == 422 and "capabilities" in invalid.json()["detail"]
    changed = client.patch(
        "/api/v1/units/e-car1", json={"device_id": "imei-1", "home_post": "pt-a"}, headers=commander
    )
    assert changed.status_code == 200, changed.text
    assert (
        changed.json()["device_id"],
        changed.json()["home_post"],
        changed.json()["callsign"],
    ) == ("imei-1", "pt-a", "E-C1")
    assert changed.json()["location"]["source"] == "home_post"
    bad = client.patch("/api/v1/units/e-car1", json={"home_post": "pt-zz"}, headers=commander)
    assert bad.status_code == 422 and "home_post: no post 'pt-zz'" in bad.json()["detail"]


def test_status_changes(client: TestClient, db_engine: Engine) -> None:
    dispatcher = login_headers(db_engine, Role.DISPATCHER)
    assigned = client.post(
        "/api/v1/units/w-p01/status", json={"status": "assigned"}, headers=dispatcher
    )
    assert assigned.status_code == 200 and assigned.json()["status"] == "assigned"
    refused = client.post(
        "/api/v1/units/w-p01/status", json={"status": "off_duty"}, headers=dispatcher
    )
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("a unit that is assigned cannot become off_duty")
    wrong_label = client.post(
        "/api/v1/units/boat-1/status",
        json={"status": "available", "label": "meal_break"},
        headers=dispatcher,
    )
    assert wrong_label.status_code == 422 and wrong_label.json()["field"] == "label"
    own = login_headers(db_engine, Role.GUARD, unit_id="boat-1")
    meal = client.post(
        "/api/v1/units/boat-1/status",
        json={"status": "unavailable", "label": "meal_break"},
        headers=own,
    )
    assert (meal.status_code, meal.json()["status_label"]) == (200, "meal_break")
    other = client.post("/api/v1/units/w-p01/status", json={"status": "en_route"}, headers=own)
    assert other.status_code == 403
    assert (
        client.post(
            "/api/v1/units/w-p01/status",
            json={"status": "en_route"},
            headers=login_headers(db_engine, Role.ADMIN),
        ).status_code
        == 403
    )


def position(seconds_ago: float, **fields: Any) -> dict[str, Any]:
    return {"lon": BOAT_AT[0], "lat": BOAT_AT[1], "timestamp": ago(seconds_ago).isoformat(),
            "accuracy_m": 4, "speed_ms": 2.5, "bearing_deg": 180, "battery": 64, **fields}  # fmt: skip


def test_officers_post_their_own_positions(
    client: TestClient, db_engine: Engine, sessions: sessionmaker[Session]
) -> None:
    officer = login_headers(db_engine, Role.FIELD_OFFICER, unit_id="boat-1")
    first = client.post("/api/v1/units/boat-1/positions", json=position(5), headers=officer)
    assert first.status_code == 200, first.text
    assert (first.json()["latest"], first.json()["stale"]) == (True, False)
    late = client.post(
        "/api/v1/units/boat-1/positions",
        json=position(120, lon=BOAT_AT[0] + 0.001),
        headers=officer,
    )
    assert (late.json()["latest"], late.json()["stale"]) == (False, True)
    unit = client.get("/api/v1/units/boat-1", headers=officer).json()
    assert (unit["position"]["lon"], unit["position"]["battery"], unit["stale"]) == (
        BOAT_AT[0],
        64,
        False,
    )
    assert unit["location"]["source"] == "position" and unit["position_age_s"] < 60
    future = client.post("/api/v1/units/boat-1/positions", json=position(-600), headers=officer)
    assert future.status_code == 422 and future.json()["field"] == "timestamp"
    assert "in the future" in future.json()["detail"]
    off_range = client.post(
        "/api/v1/units/boat-1/positions", json=position(5, lat=95), headers=officer
    )
    assert off_range.status_code == 422 and "lat" in off_range.json()["detail"]
    naive = client.post(
        "/api/v1/units/boat-1/positions",
        json=position(5, timestamp="2024-05-01T02:40:00"),
        headers=officer,
    )
    assert naive.status_code == 422 and "timestamp" in naive.json()["detail"]
    assert (
        client.post("/api/v1/units/w-p01/positions", json=position(5), headers=officer).status_code
        == 403
    )
    dispatcher = login_headers(db_engine, Role.DISPATCHER)
    assert (
        client.post(
            "/api/v1/units/w-p01/positions", json=position(5), headers=dispatcher
        ).status_code
        == 200
    )
    with sessions() as session:
        assert [r.late for r in track(session, unit_id="boat-1")] == [True, False]


def test_a_stale_position_is_flagged(client: TestClient, db_engine: Engine, tiny: Scenario) -> None:
    dispatcher = login_headers(db_engine, Role.DISPATCHER)
    client.post("/api/v1/units/boat-1/positions", json=position(90), headers=dispatcher)
    unit = client.get("/api/v1/units/boat-1", headers=dispatcher).json()
    assert unit["stale"] is True and unit["position_age_s"] >= 90
    assert unit["location"]["reason"] == "stale_position_used_home_post"
    assert [unit["location"]["lon"], unit["location"]["lat"]] == list(
        post_locations(tiny.posts)["seg-lake"]
    )


@pytest.fixture
def tracker(db_engine: Engine) -> str:
    """The token of the boat's tracker (device id tracker-boat), as it goes in its URL."""
    headers = login_headers(db_engine, Role.DEVICE, unit_id="boat-1", scopes=["positions"])
    return headers["Authorization"].removeprefix("Bearer ")


def test_osmand_query_form_and_traccar_json(
    client: TestClient, tracker: str, sessions: sessionmaker[Session]
) -> None:
    sent = int(ago(20).timestamp())
    got = client.get(f"/api/v1/positions/osmand?id=tracker-boat&lat={BOAT_AT[1]}&lon={BOAT_AT[0]}"
                     f"&timestamp={sent}&speed=1.5&batt=77&hdop=0.8&token={tracker}")  # fmt: skip
    assert (got.status_code, got.content) == (200, b"")
    form = client.post(
        f"/api/v1/positions/osmand?token={tracker}",
        content=f"deviceid=tracker-boat&location={BOAT_AT[1]},{BOAT_AT[0]}&timestamp={sent + 5}000",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (form.status_code, form.content) == (200, b""), form.text
    in_body = client.post(
        "/api/v1/positions/osmand",
        content=f"id=tracker-boat&lat={BOAT_AT[1]}&lon={BOAT_AT[0]}&timestamp={sent + 6}&token={tracker}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (in_body.status_code, in_body.content) == (200, b""), in_body.text
    body = {"device_id": "tracker-boat", "location": {
        "timestamp": ago(10).isoformat().replace("+00:00", "Z"),
        "coords": {"latitude": BOAT_AT[1], "longitude": BOAT_AT[0], "accuracy": 3, "speed": 2, "heading": 45},
        "is_moving": True, "battery": {"level": 0.5, "is_charging": True}, "activity": {"type": "in_vehicle"}}}  # fmt: skip
    traccar = client.post(f"/api/v1/positions/osmand?token={tracker}", json=body)
    assert (traccar.status_code, traccar.content) == (200, b""), traccar.text
    with sessions() as session:
        rows = track(session, unit_id="boat-1")
        assert [r.source for r in rows] == ["osmand", "osmand", "osmand", "traccar_json"]
        assert rows[0].attributes == {"hdop": "0.8"} and rows[0].battery == 77
        assert rows[3].attributes["activity"] == "in_vehicle" and rows[3].battery == 50
        assert get_unit(session, unit_id="boat-1").bearing_deg == 45


def test_osmand_refusals(client: TestClient, tracker: str, db_engine: Engine) -> None:
    where = f"lat={BOAT_AT[1]}&lon={BOAT_AT[0]}"
    assert client.get(f"/api/v1/positions/osmand?id=tracker-boat&{where}").status_code == 401
    # A token bound to the boat cannot report for another unit, nor for an unknown tracker.
    missing = client.get(f"/api/v1/positions/osmand?id=&{where}&token={tracker}")
    assert (missing.status_code, missing.json()["field"]) == (400, "id")
    other = client.get(f"/api/v1/positions/osmand?id=tracker-other&{where}&token={tracker}")
    assert other.status_code == 403 and "tracker-other" in other.json()["detail"]
    general = login_headers(db_engine, Role.DEVICE, unit_id="boat-1", scopes=["api"])[
        "Authorization"
    ][7:]
    assert (
        client.get(f"/api/v1/positions/osmand?id=tracker-boat&{where}&token={general}").status_code
        == 403
    )
    bad_lat = client.get(f"/api/v1/positions/osmand?id=tracker-boat&lat=95&lon=120&token={tracker}")
    assert (bad_lat.status_code, bad_lat.json()["field"]) == (422, "lat")
    assert bad_lat.json()["detail"] == "lat: 95 is out of range (-90 to 90)"
    bad_time = client.get(
        f"/api/v1/positions/osmand?id=tracker-boat&{where}&timestamp=noon&token={tracker}"
    )
    assert (bad_time.status_code, bad_time.json()["field"]) == (400, "timestamp")
    future = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    ahead = client.get(
        f"/api/v1/positions/osmand?id=tracker-boat&{where}&timestamp={future}&token={tracker}"
    )
    assert (ahead.status_code, ahead.json()["field"]) == (422, "timestamp")
    garbage = client.post(
        f"/api/v1/positions/osmand?token={tracker}",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert (garbage.status_code, garbage.json()["field"]) == (400, "body")
