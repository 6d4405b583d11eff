"""Broadcasts and listings through the API, with the worker running in the app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lakeguard.api.app import create_app
from lakeguard.auth.roles import Role
from lakeguard.community.models import CommunityRow, LiaisonGroupRow
from lakeguard.config import Settings
from lakeguard.notify.targets import parse_targets
from lakeguard.store.session import make_sessionmaker, transaction
from tests.auth.helpers import login_headers
from tests.notify.servers import Recorder, recording_server

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
KEYS = {
    "yuemiao-wecom": "wecom-key-0000aaaa",
    "hubin-wecom": "wecom-key-1111bbbb",
    "liulang-wecom": "wecom-key-2222cccc",
}


@pytest.fixture
def server() -> Iterator[Recorder]:
    with recording_server() as recorder:
        yield recorder


@pytest.fixture
def groups(db_engine: Engine) -> dict[str, int]:
    """Four liaison groups: three with a WeCom target, one without."""
    ids: dict[str, int] = {}
    with transaction(make_sessionmaker(db_engine)) as session:
        for name, station, target in (
            ("断桥", "yuemiao", "yuemiao-wecom"),
            ("湖滨", "hubin", "hubin-wecom"),
            ("柳浪", "liulang", "liulang-wecom"),
            ("孤山", "yuemiao", None),
        ):
            community = CommunityRow(
                venue_id="westlake",
                name=f"{name}社区",
                station_id=station,
                registered_population=1000,
                reachable_population=800,
                created_at=NOW,
            )
            session.add(community)
            session.flush()
            group = LiaisonGroupRow(
                community_id=community.id,
                name=f"{name}警民群",
                channel="wecom",
                members=200,
                notify_target=target,
                created_at=NOW,
            )
            session.add(group)
            session.flush()
            ids[name] = group.id
    return ids


@pytest.fixture
def client(db_engine: Engine, database_url: str, server: Recorder) -> Iterator[TestClient]:
    targets: list[dict[str, Any]] = [
        {
            "name": name,
            "type": "wecom",
            "key": key,
            "url": f"{server.url}/cgi-bin/webhook/send",
            "group_wait_s": 0,
        }
        for name, key in KEYS.items()
    ]
    settings = Settings(database_url=database_url, notify_targets=parse_targets(targets))
    with TestClient(create_app(settings)) as client:
        yield client


def _poll(client: TestClient, url: str, headers: dict[str, str], done: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        body: dict[str, Any] = client.get(url, headers=headers).json()
        if done(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_a_dispatcher_broadcasts_to_three_groups_and_sees_each_delivery(
    client: TestClient, db_engine: Engine, groups: dict[str, int], server: Recorder
) -> None:
    dispatcher = login_headers(db_engine, Role.DISPATCHER)
    chosen = [groups["断桥"], groups["湖滨"], groups["柳浪"], groups["孤山"]]
    response = client.post(
        "/api/v1/broadcasts",
        json={
            "kind": "anti_fraud",
            "title": "防诈骗提醒 Anti-fraud",
            "body": "Never pay a deposit to book a boat.",
            "group_ids": chosen,
        },
        headers=dispatcher,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert [g["status"] for g in created["groups"]] == [
        "pending",
        "pending",
        "pending",
        "no_target",
    ]
    url = f"/api/v1/broadcasts/{created['id']}"
    final = _poll(
        client,
        url,
        dispatcher,
        lambda b: all(g["status"] not in ("pending", "sending") for g in b["groups"]),
    )
    assert {g["name"]: g["status"] for g in final["groups"]} == {
        "断桥警民群": "sent",
        "湖滨警民群": "sent",
        "柳浪警民群": "sent",
        "孤山警民群": "no_target",
    }
    assert sorted(s.query["key"] for s in server.seen) == sorted(KEYS.values())
    assert {s.json()["text"]["content"] for s in server.seen} == {
        "防诈骗提醒 Anti-fraud\nNever pay a deposit to book a boat."
    }


def test_broadcast_by_station_and_whole_venue(
    client: TestClient, db_engine: Engine, groups: dict[str, int]
) -> None:
    commander = login_headers(db_engine, Role.COMMANDER)
    by_station = client.post(
        "/api/v1/broadcasts",
        json={
            "kind": "closure",
            "title": "Su Causeway closed",
            "body": "Until 18:00.",
            "station_ids": ["yuemiao"],
        },
        headers=commander,
    ).json()
    assert sorted(g["name"] for g in by_station["groups"]) == ["孤山警民群", "断桥警民群"]
    venue = client.post(
        "/api/v1/broadcasts",
        json={
            "kind": "weather",
            "title": "Thunderstorm",
            "body": "Leave the causeways.",
            "whole_venue": True,
        },
        headers=commander,
    ).json()
    assert len(venue["groups"]) == 4
    listed = client.get("/api/v1/broadcasts", headers=commander).json()["broadcasts"]
    assert [b["id"] for b in listed] == [venue["id"], by_station["id"]]


def test_broadcast_problems(client: TestClient, db_engine: Engine, groups: dict[str, int]) -> None:
    dispatcher = login_headers(db_engine, Role.DISPATCHER)
    base = {"kind": "other", "title": "t", "body": "b"}
    unknown = client.post(
        "/api/v1/broadcasts", json={**base, "group_ids": [987654]}, headers=dispatcher
    )
    assert unknown.status_code == 422 and unknown.json()["title"] == "Unknown groups"
    nothing = client.post("/api/v1/broadcasts", json=base, headers=dispatcher)
    assert nothing.status_code == 422
    assert client.get("/api/v1/broadcasts/987654", headers=dispatcher).status_code == 404


def test_targets_are_listed_with_the_last_four_characters_only(
    client: TestClient, db_engine: Engine
) -> None:
    response = client.get("/api/v1/notify/targets", headers=login_headers(db_engine, Role.ADMIN))
    assert response.status_code == 200
    shown = {t["name"]: t["key"] for t in response.json()["targets"]}
    assert shown == {"yuemiao-wecom": "…aaaa", "hubin-wecom": "…bbbb", "liulang-wecom": "…cccc"}
    assert not any(key in response.text for key in KEYS.values())
    assert [r["name"] for r in response.json()["rules"]] == [
        "crowd-alert",
        "lost-child",
        "case-assigned",
        "broadcast",
    ]


def test_dead_letters_are_listed(
    client: TestClient, db_engine: Engine, groups: dict[str, int], server: Recorder
) -> None:
    server.default = (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    dispatcher = login_headers(db_engine, Role.DISPATCHER)
    client.post(
        "/api/v1/broadcasts",
        json={"kind": "other", "title": "t", "body": "b", "group_ids": [groups["断桥"]]},
        headers=dispatcher,
    )
    url = "/api/v1/notify/deliveries?status=dead"
    dead = _poll(client, url, dispatcher, lambda b: bool(b["deliveries"]))["deliveries"]
    assert [(d["target"], d["status"], d["attempts"]) for d in dead] == [
        ("yuemiao-wecom", "dead", 1)
    ]
    assert "93000" in dead[0]["last_error"]
