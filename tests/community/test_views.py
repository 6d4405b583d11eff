"""Communities, coverage and residents' cases over the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lakeguard.auth.roles import Role
from lakeguard.community import cases
from lakeguard.community.engine import Category, Source, targets
from lakeguard.store.outbox import OutboxRow
from lakeguard.store.session import make_sessionmaker, transaction
from tests.auth.helpers import login_headers


@pytest.fixture
def world(westlake_world: dict[str, Any]) -> dict[str, Any]:
    police = [s for s in westlake_world["specs"] if s.station is not None]
    here = police[0]
    other = next(s for s in police if s.station != here.station)
    return westlake_world | {"officer_unit": here, "other_unit": other}


def _community(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/community/communities", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _group(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/community/groups", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_dispatcher_registers_groups_and_mediates_a_dispute(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    dispatcher = login_headers(world["engine"], Role.DISPATCHER)
    station = world["officer_unit"].station
    beishan = _community(client, dispatcher, name="北山街社区", station=station,
                         registered_population=1200, reachable_population=1000)  # fmt: skip
    quyuan = _community(client, dispatcher, name="曲院社区", station="xixi",
                        registered_population=600, reachable_population=500)  # fmt: skip
    group = _group(client, dispatcher, community_id=beishan["id"], name="北山警民一家亲",
                   channel="wecom", members=500, notify_target="yuemiao-groups")  # fmt: skip
    _group(client, dispatcher, community_id=beishan["id"], name="北山二群", channel="dingtalk",
           members=400)  # fmt: skip
    _group(client, dispatcher, community_id=quyuan["id"], name="曲院群", channel="other",
           members=200)  # fmt: skip

    coverage = client.get("/api/v1/community/coverage", headers=dispatcher).json()
    # beishan 900 / 1000 = 0.9; quyuan 200 / 500 = 0.4 (needs 440 − 200 = 240 more);
    # the venue: 1100 / 1500 = 0.7333.
    assert coverage["target"] == 0.88
    by_name = {c["key"]: c for c in coverage["communities"]}
    assert by_name["北山街社区"]["coverage"] == 0.9 and by_name["北山街社区"]["meets_target"]
    assert by_name["曲院社区"]["shortfall"] == 240
    (venue,) = coverage["venues"]
    assert (venue["groups"], venue["members"], venue["coverage"]) == (3, 1100, 0.7333)

    opened = client.post("/api/v1/community/cases", headers=dispatcher, json={
        "category": "dispute", "source": "group", "group_id": group["id"],
        "summary": "邻居家的树枝压坏了车", "resident_name": "王先生",
    })  # fmt: skip
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert case["station"] == station and case["status"] == "received"
    url = f"/api/v1/community/cases/{case['id']}"

    too_soon = client.post(f"{url}/outcome", headers=dispatcher, json={"outcome": "resolved"})
    assert too_soon.status_code == 409
    assert "from received to resolved" in too_soon.json()["detail"]

    officer = login_headers(world["engine"], Role.FIELD_OFFICER, unit_id=world["officer_unit"].id)
    assert client.post(f"{url}/triage", headers=dispatcher, json={}).status_code == 200
    assigned = client.post(f"{url}/assign", headers=dispatcher,
                           json={"unit_id": world["officer_unit"].id})  # fmt: skip
    assert assigned.json()["status"] == "assigned"
    lonely = client.post(f"{url}/actions", headers=officer,
                         json={"kind": "mediation", "parties": ["王先生"]})  # fmt: skip
    assert lonely.status_code == 422
    mediated = client.post(f"{url}/actions", headers=officer, json={
        "kind": "mediation", "parties": ["王先生", "李女士"], "note": "first session",
    })  # fmt: skip
    assert mediated.status_code == 201 and mediated.json()["status"] == "in_progress"
    resolved = client.post(f"{url}/outcome", headers=officer, json={
        "outcome": "resolved", "detail": "李女士 pays for the repair", "amount_yuan": 10000,
    })  # fmt: skip
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["amount_yuan"] == 10000
    closed = client.post(f"{url}/close", headers=dispatcher)
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]

    timeline = client.get(url, headers=dispatcher).json()["timeline"]
    assert [e["to"] for e in timeline if e["kind"] == "status"] == [
        "received", "triaged", "assigned", "in_progress", "resolved", "closed"
    ]  # fmt: skip
    assert any(e["kind"] == "mediation" and e["parties"] == ["王先生", "李女士"] for e in timeline)
    with make_sessionmaker(world["engine"])() as session:
        events = session.scalars(
            select(OutboxRow).where(OutboxRow.topic == "community.case").order_by(OutboxRow.id)
        ).all()
    assigned_event = next(e for e in events if e.payload["status"] == "assigned")
    assert assigned_event.payload["officer_unit_id"] == world["officer_unit"].id
    assert assigned_event.payload["case_id"] == case["id"]


def test_residents_see_only_their_own_cases_and_officers_their_station(
    world: dict[str, Any],
) -> None:
    client: TestClient = world["client"]
    engine = world["engine"]
    dispatcher = login_headers(engine, Role.DISPATCHER)
    alice, bob = login_headers(engine, Role.RESIDENT), login_headers(engine, Role.RESIDENT)
    here, there = world["officer_unit"], world["other_unit"]

    def file(headers: dict[str, str], station: str, summary: str) -> int:
        body = {"category": "consultation", "source": "call", "station": station,
                "summary": summary}  # fmt: skip
        response = client.post("/api/v1/community/cases", headers=headers, json=body)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    mine = file(alice, here.station, "alice asks")
    theirs = file(bob, there.station, "bob asks")
    desk = file(dispatcher, here.station, "walk-in")

    def ids(headers: dict[str, str]) -> set[int]:
        response = client.get("/api/v1/community/cases", headers=headers)
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()}

    assert ids(alice) == {mine}
    assert ids(bob) == {theirs}
    assert ids(dispatcher) == {mine, theirs, desk}
    officer = login_headers(engine, Role.FIELD_OFFICER, unit_id=here.id)
    assert ids(officer) == {mine, desk}
    assert client.get(f"/api/v1/community/cases/{theirs}", headers=alice).status_code == 404
    assert client.get(f"/api/v1/community/cases/{theirs}", headers=officer).status_code == 404
    assert client.get(f"/api/v1/community/cases/{mine}", headers=alice).json()["source"] == "app"

    # Feedback: only on one's own case, and only once it is resolved.
    url = f"/api/v1/community/cases/{mine}"
    assert client.post(f"{url}/feedback", headers=alice, json={"rating": 5}).status_code == 409
    client.post(f"{url}/triage", headers=dispatcher, json={})
    client.post(f"{url}/assign", headers=dispatcher, json={"unit_id": here.id})
    done = client.post(f"{url}/outcome", headers=officer,
                       json={"outcome": "resolved", "detail": "answered"})  # fmt: skip
    assert done.status_code == 200, done.text
    assert client.post(f"{url}/feedback", headers=bob, json={"rating": 1}).status_code == 404
    given = client.post(f"{url}/feedback", headers=alice, json={"rating": 5, "text": "快"})
    assert given.status_code == 200 and given.json()["feedback"]["rating"] == 5
    assert client.post(f"{url}/feedback", headers=alice, json={"rating": 4}).status_code == 409
    # An officer of another station cannot conclude a case outside it.
    elsewhere = login_headers(engine, Role.FIELD_OFFICER, unit_id=there.id)
    other_url = f"/api/v1/community/cases/{desk}/actions"
    assert client.post(other_url, headers=elsewhere, json={"kind": "note"}).status_code == 404


def test_reminders_come_once_per_case_and_overdue_period(db_engine: Any) -> None:
    t0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    goals = targets({"consultation": 48})
    sessions = make_sessionmaker(db_engine)
    with transaction(sessions) as session:
        late = cases.open_case(session, category=Category.CONSULTATION, source=Source.CALL,
                               summary="late", actor="t", now=t0).id  # fmt: skip
        cases.open_case(session, category=Category.DISPUTE, source=Source.CALL,
                        summary="within 7 days", actor="t", now=t0)  # fmt: skip
        done = cases.open_case(session, category=Category.CONSULTATION, source=Source.CALL,
                               summary="rejected", actor="t", now=t0).id  # fmt: skip
        cases.conclude_case(session, case_id=done, outcome=cases.CaseStatus.REJECTED,
                            detail="not police business", actor="t", now=t0)  # fmt: skip

    def run(at: datetime) -> list[tuple[int, int]]:
        with transaction(sessions) as session:
            return [(r.case_id, r.period) for r in cases.run_reminders(session, now=at,
                                                                        targets_h=goals)]  # fmt: skip

    assert run(t0 + timedelta(hours=47)) == []
    assert run(t0 + timedelta(hours=49)) == [(late, 1)]
    assert run(t0 + timedelta(hours=50)) == []  # the same period: no repeat
    assert run(t0 + timedelta(hours=97)) == [(late, 2)]
    with sessions() as session:
        topics = session.scalars(
            select(OutboxRow.payload).where(OutboxRow.topic == "community.reminder")
        ).all()
    assert [(p["case_id"], p["period"]) for p in topics] == [(late, 1), (late, 2)]
