"""Joint stations, joint tasks, certificates and training over the API, on both databases."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from lakeguard.auth.roles import Role
from tests.auth.helpers import login_headers


def test_joint_work_and_the_training_report(westlake_world: dict[str, Any]) -> None:
    client: TestClient = westlake_world["client"]
    specs = westlake_world["specs"]
    commander = login_headers(westlake_world["engine"], Role.COMMANDER)
    guards = [s for s in specs if s.company is not None]
    police = next(s for s in specs if s.station == "liulang")
    company = guards[0].company
    same = [g.id for g in guards if g.company == company]
    assert len(same) >= 2

    station = client.post("/api/v1/security/joint-stations", headers=commander, json={
        "id": "liulang-joint", "name": "柳浪警保联动工作站", "station": "liulang"})  # fmt: skip
    assert station.status_code == 201, station.text
    members = client.post("/api/v1/security/joint-stations/liulang-joint/members",
                          headers=commander, json={"unit_ids": [police.id, *same[:2]]})  # fmt: skip
    assert members.json()["members"] == sorted([police.id, *same[:2]])

    cert = client.post(f"/api/v1/security/guards/{same[0]}/certificates", headers=commander,
                       json={"kind": "security_guard", "number": "ZJ-0001"})  # fmt: skip
    assert cert.status_code == 201, cert.text
    not_a_guard = client.post(f"/api/v1/security/guards/{police.id}/certificates",
                              headers=commander, json={"kind": "first_aid"})  # fmt: skip
    assert not_a_guard.status_code == 422
    held = client.get(f"/api/v1/security/guards/{same[0]}/certificates", headers=commander)
    assert held.json() == [{"id": cert.json()["id"], "kind": "security_guard",
                            "number": "ZJ-0001", "issued_on": None, "expires_on": None}]  # fmt: skip
    listed = client.get("/api/v1/security/joint-stations", headers=commander).json()
    assert listed == [{"id": "liulang-joint", "name": "柳浪警保联动工作站", "station": "liulang",
                       "members": sorted([police.id, *same[:2]])}]  # fmt: skip

    task = client.post("/api/v1/security/tasks", headers=commander, json={
        "joint_station": "liulang-joint", "type": "night_patrol", "date": "2026-05-01",
        "shift": "20:00-24:00", "unit_ids": [police.id, same[0]]})  # fmt: skip
    assert task.status_code == 201, task.text
    planned = client.get("/api/v1/security/tasks?date=2026-05-01", headers=commander).json()
    assert [(t["type"], t["unit_ids"]) for t in planned] == [
        ("night_patrol", sorted([police.id, same[0]]))
    ]

    training = client.post("/api/v1/security/training", headers=commander, json={
        "type": "anti_terror", "held_on": "2026-05-12", "unit_ids": [same[0]],
        "joint_station": "liulang-joint"})  # fmt: skip
    assert training.status_code == 201, training.text
    more = client.post(f"/api/v1/security/training/{training.json()['id']}/attendance",
                       headers=commander, json={"unit_ids": [same[0], same[1]]})  # fmt: skip
    assert more.json()["added"] == [same[1]]

    report = client.get("/api/v1/security/training/report?month=2026-05", headers=commander)
    assert report.status_code == 200, report.text
    rows = {r["company"]: r for r in report.json()["companies"]}
    assert rows[company]["guards"] == len(same)
    assert rows[company]["trained"] == 2
    assert rows[company]["overdue"] == len(same) - 2
    assert same[0] not in rows[company]["overdue_units"]
    july = client.get("/api/v1/security/training/report?month=2026-07", headers=commander).json()
    assert {r["company"]: r for r in july["companies"]}[company]["overdue"] == len(same)
    assert date(2026, 5, 12).isoformat() in {
        t["held_on"] for t in client.get("/api/v1/security/training", headers=commander).json()
    }
