"""The crowd runtime's clock tick: silence is noticed when no data arrives at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lakeguard.auth.models import AuditRow
from lakeguard.auth.policy import Role
from lakeguard.store.outbox import OutboxRow
from tests.auth.helpers import login_headers
from tests.crowd.test_views import CAMERA, counts


def silence_events(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.topic == "crowd.sensor_silence"))
        return [r.payload for r in rows]


def test_the_clock_tick_runs_on_from_the_newest_data(westlake_world: dict[str, Any]) -> None:
    client: TestClient = westlake_world["client"]
    engine: Engine = westlake_world["engine"]
    camera = login_headers(engine, Role.DEVICE, sensor_id=CAMERA, scopes=["observations"])
    # Data from twenty minutes ago, as a replay or a delayed link would send it.
    start = datetime.now(UTC) - timedelta(minutes=20)
    sent = client.post("/api/v1/observations", json=counts(start, 600, range(0, 60, 10), "calm"), headers=camera)  # fmt: skip
    assert sent.json()["accepted"] == 6
    runtime = client.app.state.lakeguard.crowd  # type: ignore[attr-defined]
    silence_s = runtime.monitor.engine.params.silence_s
    # Ticks run from the data's own time, not the wall clock's: nine minutes on, all is well.
    runtime.tick(datetime.now(UTC) + timedelta(seconds=silence_s - 60))
    assert silence_events(engine) == []
    runtime.tick(datetime.now(UTC) + timedelta(seconds=silence_s + 60))
    (event,) = silence_events(engine)
    assert event["area_id"] == "broken-bridge" and event["silent"] is True
    assert datetime.fromisoformat(event["since"]) == start + timedelta(seconds=50)


def test_operators_mark_a_sensor_faulty_and_enter_a_head_count(
    westlake_world: dict[str, Any],
) -> None:
    client: TestClient = westlake_world["client"]
    engine: Engine = westlake_world["engine"]
    camera = login_headers(engine, Role.DEVICE, sensor_id=CAMERA, scopes=["observations"])
    commander = login_headers(engine, Role.COMMANDER)
    officer = login_headers(engine, Role.FIELD_OFFICER)
    start = datetime.now(UTC) - timedelta(minutes=20)
    client.post("/api/v1/observations", json=counts(start, 600, range(0, 60, 10), "calm"), headers=camera)  # fmt: skip

    refused = client.post(f"/api/v1/sensors/{CAMERA}/fault", json={"faulty": True}, headers=officer)
    assert refused.status_code == 403
    unknown = client.post("/api/v1/sensors/cam-nowhere/fault", json={"faulty": True}, headers=commander)  # fmt: skip
    assert unknown.status_code == 404
    marked = client.post(
        f"/api/v1/sensors/{CAMERA}/fault", json={"faulty": True}, headers=commander
    )
    assert marked.json() == {"sensor_id": CAMERA, "faulty": True}
    # Its readings no longer move the estimate ...
    client.post("/api/v1/observations", json=counts(start, 1250, range(60, 120, 10), "busy"), headers=camera)  # fmt: skip
    crowd = {a["area_id"]: a for a in client.get("/api/v1/crowd", headers=commander).json()}
    assert crowd["broken-bridge"]["occupancy"] < 700
    # ... a head count does.
    counted = client.post(
        "/api/v1/crowd/broken-bridge/counts", json={"count": 900, "std": 10}, headers=commander
    )
    assert counted.status_code == 200 and abs(counted.json()["occupancy"] - 900) < 30
    with Session(engine) as session:
        actions = [
            (r.actor, r.target_id)
            for r in session.scalars(select(AuditRow).order_by(AuditRow.id))
            if "fault" in r.target_id or "counts" in r.target_id
        ]
    assert any("fault" in target and actor.startswith("commander") for actor, target in actions)
