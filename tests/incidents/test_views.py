"""A dispatcher's whole job over the API alone, on SQLite and PostgreSQL.

Create an incident by place name, get ranked units with ETAs and reasons, dispatch, see the
unit acknowledge and arrive in the timeline and on the stream, close it, read the metrics.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lakeguard.auth.roles import Role
from lakeguard.forces.engine import PositionReport
from lakeguard.forces.service import record_position
from lakeguard.store.session import make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from tests.auth.helpers import login_headers


@pytest.fixture
def world(westlake_world: dict[str, Any]) -> dict[str, Any]:
    return westlake_world


def test_a_dispatcher_handles_a_lost_child_at_the_broken_bridge(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    dispatcher = login_headers(world["engine"], Role.DISPATCHER)

    created = client.post(
        "/api/v1/incidents",
        headers=dispatcher,
        json={"type": "lost_child", "source": "phone", "place": "断桥"},
    )
    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["area_id"] == "broken-bridge" and incident["status"] == "received"
    assert "断桥" in incident["place"]

    rec = client.get(
        f"/api/v1/incidents/{incident['id']}/recommendation", headers=dispatcher
    ).json()
    assert rec["complete"] and len(rec["units"]) == 3
    assert all(u["eta_s"] > 0 and u["reasons"] for u in rec["units"])
    assert [u["eta_s"] for u in rec["units"]] == sorted(u["eta_s"] for u in rec["units"])
    assert any(u["capability"] == "plainclothes" for u in rec["units"])

    with client.websocket_connect(
        "/api/v1/stream?topics=incident.>&token=" + dispatcher["Authorization"].split()[1]
    ) as ws:
        sent = client.post(
            f"/api/v1/incidents/{incident['id']}/dispatch",
            headers=dispatcher,
            json={"accept_recommendation": True},
        )
        assert sent.status_code == 200, sent.text
        assert sent.json()["dispatched"] == [u["unit_id"] for u in rec["units"]]
        first = ws.receive_json()
        assert first["topic"] == "incident.assignment" and first["event"]["status"] == "dispatched"

        unit_id = rec["units"][0]["unit_id"]
        officer = login_headers(world["engine"], Role.FIELD_OFFICER, unit_id=unit_id)
        for status in ("acknowledged", "on_scene"):
            moved = client.post(
                f"/api/v1/incidents/{incident['id']}/assignments/{unit_id}",
                headers=officer,
                json={"status": status},
            )
            assert moved.status_code == 200, moved.text
        seen = [ws.receive_json() for _ in range(7)]
        topics = [(m["topic"], m["event"].get("status")) for m in seen]
        assert ("incident.assignment", "on_scene") in topics
        assert ("incident.status", "on_scene") in topics

    other = rec["units"][1]["unit_id"]
    stranger = client.post(
        f"/api/v1/incidents/{incident['id']}/assignments/{other}",
        headers=login_headers(world["engine"], Role.FIELD_OFFICER, unit_id="someone-else"),
        json={"status": "acknowledged"},
    )
    assert stranger.status_code == 403
    illegal = client.post(
        f"/api/v1/incidents/{incident['id']}/assignments/{other}",
        headers=dispatcher,
        json={"status": "resolved"},
    )
    assert illegal.status_code == 409
    assert "cannot go from dispatched to resolved" in illegal.json()["detail"]

    for uid in [u["unit_id"] for u in rec["units"]]:
        body = client.get(f"/api/v1/incidents/{incident['id']}", headers=dispatcher).json()
        status = next(a["status"] for a in body["assignments"] if a["unit_id"] == uid)
        for step in {
            "dispatched": ["acknowledged", "on_scene", "resolved"],
            "on_scene": ["resolved"],
        }.get(status, []):
            assert (
                client.post(
                    f"/api/v1/incidents/{incident['id']}/assignments/{uid}",
                    headers=dispatcher,
                    json={"status": step},
                ).status_code
                == 200
            )
    closed = client.post(f"/api/v1/incidents/{incident['id']}/close", headers=dispatcher)
    assert closed.json()["status"] == "closed"

    body = client.get(f"/api/v1/incidents/{incident['id']}", headers=dispatcher).json()
    steps = [(t["unit_id"], t["to"]) for t in body["timeline"]]
    assert steps[0] == (None, "received") and steps[-1] == (None, "closed")
    assert (unit_id, "acknowledged") in steps and (None, "resolved") in steps

    metrics = client.get("/api/v1/metrics/response", headers=dispatcher).json()["intervals"]["all"]
    assert set(metrics) == {"processing", "turnout", "travel", "response"}
    assert metrics["response"]["count"] == 1
    by_type = client.get(
        "/api/v1/metrics/response", headers=dispatcher, params={"group_by": "type"}
    ).json()
    assert "lost_child" in by_type["intervals"]


def test_unknown_places_and_types_are_named(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    dispatcher = login_headers(world["engine"], Role.DISPATCHER)
    bad = client.post(
        "/api/v1/incidents",
        headers=dispatcher,
        json={"type": "lost_child", "source": "phone", "place": "Eiffel Tower"},
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "place" and bad.json()["suggestions"]
    wrong = client.post(
        "/api/v1/incidents",
        headers=dispatcher,
        json={"type": "alien_landing", "source": "phone", "place": "断桥"},
    )
    assert (
        wrong.status_code == 422
        and "unknown incident type 'alien_landing'" in wrong.json()["detail"]
    )
    nowhere = client.post(
        "/api/v1/incidents", headers=dispatcher, json={"type": "theft", "source": "phone"}
    )
    assert nowhere.status_code == 422


def test_a_stale_unit_is_ranked_from_its_home_post(
    world: dict[str, Any], westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    """A boat whose last report is ten minutes old is placed at its post, not at that report."""
    from lakeguard.forces.engine import post_locations
    from lakeguard.incidents.gazetteer import Gazetteer
    from lakeguard.incidents.service import VenueContext, candidates_now

    boats = [s for s in world["specs"] if "water_rescue" in s.capabilities and s.home_post]
    stale = boats[0]
    now = datetime.now(UTC)
    far_away = (120.1620, 30.2460)
    sessions = make_sessionmaker(world["engine"])
    with transaction(sessions) as session:
        record_position(
            session,
            unit_id=stale.id,
            report=PositionReport(lat=far_away[1], lon=far_away[0], reported_at=now),
            source="test",
            now=now,
            max_age_s=60,
        )
    later = now + timedelta(minutes=10)
    context = VenueContext(westlake, westlake_network, Gazetteer.from_scenario(westlake))
    with sessions() as session:
        fresh = {
            c.unit_id: c for c in candidates_now(session, venue=context, now=now, max_age_s=60)
        }
        assert (fresh[stale.id].lon, fresh[stale.id].lat) == pytest.approx(far_away)
        found = {
            c.unit_id: c for c in candidates_now(session, venue=context, now=later, max_age_s=60)
        }
        post = post_locations(westlake.posts)[stale.home_post]
        assert found[stale.id].location_source == "home_post"
        assert (found[stale.id].lon, found[stale.id].lat) == pytest.approx(tuple(post), abs=1e-9)
        assert (found[stale.id].lon, found[stale.id].lat) != pytest.approx(far_away, abs=1e-3)


def test_reading_a_lost_child_incident_is_audited(world: dict[str, Any]) -> None:
    from sqlalchemy import select

    from lakeguard.auth.models import AuditRow

    client: TestClient = world["client"]
    dispatcher = login_headers(world["engine"], Role.DISPATCHER, username="reader")
    child = client.post("/api/v1/incidents", headers=dispatcher, json={
        "type": "lost_child", "source": "walk_in", "place": "Bai Causeway",
        "description": "boy, about 5, red jacket"}).json()  # fmt: skip
    theft = client.post("/api/v1/incidents", headers=dispatcher,
                        json={"type": "theft", "source": "phone", "place": "Bai Causeway"}).json()  # fmt: skip
    client.get(f"/api/v1/incidents/{child['id']}", headers=dispatcher)
    client.get(f"/api/v1/incidents/{theft['id']}", headers=dispatcher)
    with make_sessionmaker(world["engine"])() as session:
        reads = session.scalars(select(AuditRow).where(AuditRow.action == "record.read")).all()
    assert [(r.actor, r.target_type, r.target_id) for r in reads] == [
        ("reader", "incident", str(child["id"]))
    ]
