"""The event log over HTTP, and the venue clock the API runs on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lakeguard.api.app import create_app
from lakeguard.auth.roles import Role
from lakeguard.clock import ManualClock
from lakeguard.config import Settings
from tests.auth.helpers import login_headers

DAY = datetime(2026, 10, 2, 2, 0, tzinfo=UTC)  # 10:00 in Hangzhou


@pytest.fixture
def world(db_engine: Engine, database_url: str, westlake_db: list[Any]) -> Iterator[dict[str, Any]]:
    clock = ManualClock(DAY)
    with TestClient(create_app(Settings(database_url=database_url), clock=clock)) as client:
        yield {"client": client, "engine": db_engine, "clock": clock}


def test_the_api_runs_on_the_clock_it_is_given(world: dict[str, Any]) -> None:
    client, clock = world["client"], world["clock"]
    assert client.get("/api/v1/clock").json() == {
        "now": DAY.isoformat(),
        "kind": "manual",
        "speed": 0.0,
    }
    dispatcher = login_headers(world["engine"], Role.DISPATCHER)
    clock.set(DAY + timedelta(minutes=7))
    created = client.post(
        "/api/v1/incidents",
        headers=dispatcher,
        json={"type": "theft", "source": "phone", "place": "断桥"},
    ).json()
    assert datetime.fromisoformat(created["received_at"]) == DAY + timedelta(minutes=7)


def test_events_are_read_in_order_after_a_sequence_number(world: dict[str, Any]) -> None:
    client = world["client"]
    dispatcher = login_headers(world["engine"], Role.DISPATCHER)
    first = client.get("/api/v1/events", headers=dispatcher).json()
    start = first["next_after"]
    ids = [
        client.post(
            "/api/v1/incidents",
            headers=dispatcher,
            json={"type": kind, "source": "phone", "place": "白堤"},
        ).json()["id"]
        for kind in ("theft", "lost_property")
    ]
    page = client.get(
        "/api/v1/events", headers=dispatcher, params={"after": start, "topics": "incident.created"}
    ).json()
    assert [e["event"]["incident_id"] for e in page["events"]] == ids
    assert [e["topic"] for e in page["events"]] == ["incident.created"] * 2
    seqs = [e["seq"] for e in page["events"]]
    assert seqs == sorted(seqs) and seqs[0] > start and page["next_after"] >= seqs[-1]
    rest = client.get(
        "/api/v1/events", headers=dispatcher, params={"after": page["next_after"]}
    ).json()
    assert rest["events"] == [] and rest["next_after"] == page["next_after"]
    # A page of topics the caller does not want still moves on.
    other = client.get(
        "/api/v1/events", headers=dispatcher, params={"after": start, "topics": "crowd.>"}
    ).json()
    assert other["events"] == [] and other["next_after"] >= seqs[-1]


def test_an_officer_does_not_read_the_command_rooms_other_events(world: dict[str, Any]) -> None:
    client = world["client"]
    admin = login_headers(world["engine"], Role.ADMIN)
    officer = login_headers(world["engine"], Role.FIELD_OFFICER, unit_id="someone")
    client.post(
        "/api/v1/incidents",
        headers=admin,
        json={"type": "theft", "source": "phone", "place": "断桥"},
    )
    case = {"category": "dispute", "source": "walk_in", "summary": "noise at night"}
    opened = client.post("/api/v1/community/cases", headers=admin, json=case)
    assert opened.status_code == 201, opened.text
    everything = client.get("/api/v1/events", headers=admin, params={"limit": 5000}).json()
    seen = client.get("/api/v1/events", headers=officer, params={"limit": 5000}).json()
    assert "community.case" in {e["topic"] for e in everything["events"]}
    assert "incident.created" in {e["topic"] for e in seen["events"]}
    assert {e["topic"].split(".")[0] for e in seen["events"]} <= {"incident", "unit", "crowd"}
