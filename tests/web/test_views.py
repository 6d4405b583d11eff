"""The dashboard's reads (snapshot, today's figures), the field view's read, and the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lakeguard.api.app import create_app
from lakeguard.auth.models import AuditRow
from lakeguard.auth.roles import Role
from lakeguard.clock import ManualClock
from lakeguard.config import Settings
from lakeguard.store.session import make_sessionmaker
from lakeguard.web.views import VENDOR
from tests.auth.helpers import login_headers


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def _report(client: TestClient, headers: dict[str, str], type: str, place: str) -> int:
    body = {"type": type, "source": "phone", "place": place, "description": "red coat"}
    return int(_ok(client.post("/api/v1/incidents", headers=headers, json=body))["id"])


def _finish(client: TestClient, headers: dict[str, str], incident: int) -> str:
    """Dispatch the recommendation and take its first unit through to resolved."""
    sent = _ok(client.post(f"/api/v1/incidents/{incident}/dispatch", headers=headers,
                           json={"accept_recommendation": True}))  # fmt: skip
    for unit in sent["dispatched"]:
        for status in ("acknowledged", "on_scene", "resolved"):
            _ok(client.post(f"/api/v1/incidents/{incident}/assignments/{unit}", headers=headers,
                            json={"status": status}))  # fmt: skip
    return str(sent["dispatched"][0])


def test_snapshot_holds_the_room_and_the_sequence_it_is_as_of(
    westlake_world: dict[str, Any],
) -> None:
    client, engine = westlake_world["client"], westlake_world["engine"]
    dispatcher = login_headers(engine, Role.DISPATCHER)
    empty = _ok(client.get("/api/v1/dashboard/snapshot", headers=dispatcher))
    assert empty["seq"] == 0 and empty["incidents"] == [] and empty["alerts"] == []
    assert len(empty["units"]) == len(westlake_world["specs"])

    incident = _report(client, dispatcher, "lost_child", "断桥")
    unit = _finish(client, dispatcher, incident)
    snap = _ok(client.get("/api/v1/dashboard/snapshot", headers=dispatcher))
    events = _ok(client.get("/api/v1/events", headers=dispatcher))["events"]
    assert snap["seq"] == events[-1]["seq"] > 0
    (row,) = snap["incidents"]
    assert row["id"] == incident and row["status"] == "resolved"
    # Descriptions (a lost child's) are read one by one, audited, never in bulk.
    assert "description" not in row
    assert {"unit_id": unit, "status": "resolved"}.items() <= row["assignments"][0].items()
    by_id = {u["id"]: u for u in snap["units"]}
    assert by_id[unit]["status"] == "available" and by_id[unit]["home"] is not None


def test_figures_of_the_day(westlake_world: dict[str, Any]) -> None:
    client, engine = westlake_world["client"], westlake_world["engine"]
    dispatcher = login_headers(engine, Role.DISPATCHER)

    def figures() -> dict[str, Any]:
        found = _ok(client.get("/api/v1/dashboard/figures", headers=dispatcher))["figures"]
        return {f["key"]: f["value"] for f in found}

    quiet = figures()
    assert quiet == {
        "incidents_open": 0, "incidents_closed": 0, "response_p90_s": None, "rescued": 0,
        "days_without_crime": None, "visitors_now": None,
    }  # fmt: skip
    rescue = _report(client, dispatcher, "person_in_water", "断桥")
    _finish(client, dispatcher, rescue)
    _ok(client.post(f"/api/v1/incidents/{rescue}/close", headers=dispatcher))
    _report(client, dispatcher, "theft", "孤山")
    _report(client, dispatcher, "medical_emergency", "孤山")
    now = figures()
    assert now["incidents_open"] == 2
    assert now["incidents_closed"] == 1
    assert now["rescued"] == 1
    assert now["days_without_crime"] == 0
    assert now["response_p90_s"] is not None and now["response_p90_s"] >= 0


def test_field_officer_reads_their_own_assignment_audited(westlake_world: dict[str, Any]) -> None:
    client, engine = westlake_world["client"], westlake_world["engine"]
    dispatcher = login_headers(engine, Role.DISPATCHER)
    unit = westlake_world["specs"][0].id
    officer = login_headers(engine, Role.FIELD_OFFICER, unit_id=unit, username="officer-wang")

    idle = _ok(client.get("/api/v1/field/assignment", headers=officer))
    assert idle["unit"]["id"] == unit and idle["assignment"] is None

    incident = _report(client, dispatcher, "lost_child", "Gushan")
    _ok(client.post(f"/api/v1/incidents/{incident}/dispatch", headers=dispatcher,
                    json={"unit_ids": [unit]}))  # fmt: skip
    task = _ok(client.get("/api/v1/field/assignment", headers=officer))["assignment"]
    assert task["incident_id"] == incident and task["status"] == "dispatched"
    assert task["incident"]["type_name"] == {"zh": "儿童走失", "en": "Lost child"}
    assert task["incident"]["place"] == {"zh": "孤山", "en": "Gushan Island"}
    assert task["incident"]["description"] == "red coat"
    with make_sessionmaker(engine)() as session:
        reads = session.scalars(
            select(AuditRow).where(
                AuditRow.actor == "officer-wang", AuditRow.action == "record.read"
            )
        ).all()
    assert [(r.target_type, r.target_id) for r in reads] == [("incident", str(incident))]


def test_the_field_view_audits_a_read_at_the_wall_clock_not_the_venue_clock(
    westlake_world: dict[str, Any], database_url: str
) -> None:
    engine = westlake_world["engine"]
    venue_time = datetime(2031, 7, 1, 12, tzinfo=UTC)  # a twin's clock, far from today
    app = create_app(Settings(database_url=database_url), clock=ManualClock(venue_time))
    unit = westlake_world["specs"][1].id
    dispatcher = login_headers(engine, Role.DISPATCHER)
    officer = login_headers(engine, Role.FIELD_OFFICER, unit_id=unit, username="officer-li")
    with TestClient(app) as client:
        incident = _report(client, dispatcher, "lost_child", "Gushan")
        _ok(client.post(f"/api/v1/incidents/{incident}/dispatch", headers=dispatcher,
                        json={"unit_ids": [unit]}))  # fmt: skip
        before = datetime.now(UTC)
        _ok(client.get("/api/v1/field/assignment", headers=officer))
        after = datetime.now(UTC)
    with make_sessionmaker(engine)() as session:
        (read,) = session.scalars(
            select(AuditRow).where(AuditRow.actor == "officer-li", AuditRow.action == "record.read")
        ).all()
    assert before <= read.at <= after


def test_a_field_account_without_a_unit_is_told_so(westlake_world: dict[str, Any]) -> None:
    client, engine = westlake_world["client"], westlake_world["engine"]
    guard = login_headers(engine, Role.GUARD)
    answer = client.get("/api/v1/field/assignment", headers=guard)
    assert answer.status_code == 409 and "not linked to a unit" in answer.json()["detail"]


@pytest.mark.parametrize("path", ["/", "/field"])
def test_pages_are_served_to_anyone(westlake_world: dict[str, Any], path: str) -> None:
    answer = westlake_world["client"].get(path)
    if VENDOR.is_dir():
        assert answer.status_code == 200 and 'type="module"' in answer.text
    else:
        assert answer.status_code == 503 and "make demo" in answer.text
    assert westlake_world["client"].get("/static/js/state.js").status_code == 200
