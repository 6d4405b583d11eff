"""The batch endpoint: sensors report for themselves, bad items are named, good ones kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from lakeguard.auth.roles import Role
from lakeguard.ingest.models import ObservationRow
from lakeguard.store.session import make_sessionmaker
from tests.auth.helpers import login_headers

CAMERA = "cam-broken-bridge-deck"


def count(event_id: str, at: datetime, n: int = 100, sensor: str = CAMERA) -> dict[str, Any]:
    return {
        "kind": "count",
        "event_id": event_id,
        "sensor_id": sensor,
        "at": at.isoformat(),
        "count": n,
        "coverage": 0.8,
    }


def stored(engine: Engine) -> int:
    with make_sessionmaker(engine)() as session:
        return session.scalar(select(func.count()).select_from(ObservationRow)) or 0


def test_a_mixed_batch_keeps_the_good_and_names_the_bad(westlake_world: dict[str, Any]) -> None:
    client: TestClient = westlake_world["client"]
    engine: Engine = westlake_world["engine"]
    sensor = login_headers(engine, Role.DEVICE, sensor_id=CAMERA, scopes=["observations"])
    now = datetime.now(UTC)
    batch = [
        count("c-1", now - timedelta(seconds=30)),
        {
            "kind": "count",
            "event_id": "c-2",
            "sensor_id": CAMERA,
            "at": now.isoformat(),
        },  # no count
        count("c-3", now - timedelta(seconds=20), sensor="cam-bai-causeway"),  # not this sensor
        {"kind": "smell", "event_id": "c-4", "sensor_id": CAMERA, "at": now.isoformat()},
        count("c-5", now + timedelta(hours=1)),  # clock far ahead
        {**count("c-6", now), "at": "2026-05-01T09:00:00"},  # no time zone
        count("c-7", now - timedelta(seconds=10)),
        count("c-7", now - timedelta(seconds=10)),  # the same observation twice in one batch
        {
            "kind": "crossing",
            "event_id": "c-8",
            "sensor_id": CAMERA,
            "at": now.isoformat(),
            "window_s": 60,
            "in": 1,
            "out": 0,
        },
        "not an object",
    ]
    response = client.post("/api/v1/observations", json=batch, headers=sensor)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == 2 and body["duplicates"] == 1
    reasons = {r["index"]: r["reason"] for r in body["rejected"]}
    assert sorted(reasons) == [1, 2, 3, 4, 5, 8, 9]
    assert "count" in reasons[1] and "Field required" in reasons[1]
    assert "reports for sensor 'cam-broken-bridge-deck' only" in reasons[2]
    assert "smell" in reasons[3]
    assert "in the future" in reasons[4]
    assert "timezone" in reasons[5]
    assert "a camera sends count, density, status, not crossing" in reasons[8]
    assert stored(engine) == 2

    # Re-sent: accepted once, the second time as duplicates.
    again = client.post("/api/v1/observations", json=batch[:1] + batch[6:7], headers=sensor)
    assert again.json() == {"accepted": 0, "duplicates": 2, "rejected": []}
    assert stored(engine) == 2

    commander = login_headers(engine, Role.COMMANDER)
    letters = client.get("/api/v1/observations/rejects", headers=commander).json()
    assert len(letters) == 7
    assert {r["index"] for r in letters} == {1, 2, 3, 4, 5, 8, 9}
    assert all(r["source"] == "http" and r["sender"] == f"device:{CAMERA}" for r in letters)
    smell = next(r for r in letters if r["index"] == 3)
    assert smell["payload"]["kind"] == "smell" and smell["event_id"] == "c-4"


def test_who_may_report(westlake_world: dict[str, Any]) -> None:
    client: TestClient = westlake_world["client"]
    engine: Engine = westlake_world["engine"]
    batch = [count("w-1", datetime.now(UTC))]
    tracker = login_headers(engine, Role.DEVICE, unit_id="unit-1", scopes=["observations"])
    assert client.post("/api/v1/observations", json=batch, headers=tracker).status_code == 403
    no_scope = login_headers(engine, Role.DEVICE, sensor_id=CAMERA, scopes=["api"])
    refused = client.post("/api/v1/observations", json=batch, headers=no_scope)
    assert refused.status_code == 403 and "observations" in refused.json()["detail"]
    # An integration account (a vendor platform's adapter) reports for any sensor.
    adapter = login_headers(engine, Role.ADMIN, scopes=["observations"])
    mixed = [*batch, count("w-2", datetime.now(UTC), sensor="cam-bai-causeway")]
    assert client.post("/api/v1/observations", json=mixed, headers=adapter).json()["accepted"] == 2


def test_a_batch_over_the_limit_is_refused_whole(westlake_world: dict[str, Any]) -> None:
    client: TestClient = westlake_world["client"]
    engine: Engine = westlake_world["engine"]
    sensor = login_headers(engine, Role.DEVICE, sensor_id=CAMERA, scopes=["observations"])
    now = datetime.now(UTC)
    batch = [count(f"big-{i}", now) for i in range(10_001)]
    response = client.post("/api/v1/observations", json=batch, headers=sensor)
    assert response.status_code == 413
    assert "10000" in response.json()["detail"] and "10001" in response.json()["detail"]
    assert stored(engine) == 0
    not_a_list = client.post("/api/v1/observations", json={"kind": "count"}, headers=sensor)
    assert not_a_list.status_code == 422 and "array" in not_a_list.json()["detail"]
    not_json = client.post("/api/v1/observations", content=b'[{"kind": ', headers=sensor)
    assert not_json.status_code == 422 and "not JSON" in not_json.json()["detail"]
    assert stored(engine) == 0
