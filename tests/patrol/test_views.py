"""GET /api/v1/patrol/compliance on West Lake: every unit with a post, and clear refusals."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from lakeguard.auth.roles import Role
from lakeguard.forces.engine import PositionReport
from lakeguard.forces.service import record_position
from lakeguard.store.session import make_sessionmaker, transaction
from tests.auth.helpers import login_headers

ZONE = ZoneInfo("Asia/Shanghai")


def test_the_day_lists_every_unit_with_a_post(westlake_world: dict[str, Any]) -> None:
    client: TestClient = westlake_world["client"]
    commander = login_headers(westlake_world["engine"], Role.COMMANDER)
    # Yesterday, a point's officer reported from the point at 10:00 and 10:10 (local).
    spec = next(s for s in westlake_world["specs"] if s.home_post and s.home_post.startswith("pt-"))
    yesterday = datetime.now(ZONE).date() - timedelta(days=1)
    with transaction(make_sessionmaker(westlake_world["engine"])) as session:
        for minute in (0, 10):
            at = datetime.combine(yesterday, time(10, minute), ZONE)
            report = PositionReport(lat=spec.lat, lon=spec.lon, reported_at=at)
            record_position(session, unit_id=spec.id, report=report, source="api",
                            now=at, max_age_s=900)  # fmt: skip
    found = client.get(
        "/api/v1/patrol/compliance", params={"date": yesterday.isoformat()}, headers=commander
    )
    assert found.status_code == 200, found.text
    body = found.json()
    with_posts = {s.id for s in westlake_world["specs"] if s.home_post}
    assert {u["unit_id"] for u in body["units"]} == with_posts
    officer = next(u for u in body["units"] if u["unit_id"] == spec.id)
    assert officer["tracked_s"] == 600 and officer["away_share"] == 0.0
    assert all(u["tracked_s"] == 0 for u in body["units"] if u["unit_id"] != spec.id)


def test_a_day_in_the_future_and_a_bad_date_are_refused(westlake_world: dict[str, Any]) -> None:
    client: TestClient = westlake_world["client"]
    watcher = login_headers(westlake_world["engine"], Role.COMMANDER)
    later = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    future = client.get("/api/v1/patrol/compliance", params={"date": later}, headers=watcher)
    assert future.status_code == 422 and "in the future" in future.json()["detail"]
    bad = client.get("/api/v1/patrol/compliance", params={"date": "May 1"}, headers=watcher)
    assert bad.status_code == 422
    assert client.get("/api/v1/patrol/compliance").status_code == 401
