"""The live stream over a real WebSocket: live events, replay after a sequence, who sees what."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.websockets import WebSocketDisconnect

from lakeguard.api.app import create_app
from lakeguard.api.stream import may_see
from lakeguard.auth.roles import Principal, Role
from lakeguard.config import Settings
from lakeguard.store.session import make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario
from lakeguard.venue.service import store_scenario
from tests.auth.helpers import login_headers


@pytest.fixture
def client(db_engine: Engine, database_url: str, westlake: Scenario) -> Iterator[TestClient]:
    with transaction(make_sessionmaker(db_engine)) as session:
        store_scenario(session, scenario=westlake, now=datetime.now(UTC))
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def report(client: TestClient, headers: dict[str, str], place: str) -> int:
    created = client.post("/api/v1/incidents", headers=headers,
                          json={"type": "theft", "source": "phone", "place": place})  # fmt: skip
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_live_events_then_replay_after_a_sequence(client: TestClient, db_engine: Engine) -> None:
    dispatcher = login_headers(db_engine, Role.DISPATCHER)
    with client.websocket_connect(
        f"/api/v1/stream?topics=incident.*&token={token_of(dispatcher)}"
    ) as ws:
        first = report(client, dispatcher, "断桥")
        message = ws.receive_json()
    assert message["topic"] == "incident.created"
    assert message["event"]["incident_id"] == first and message["event"]["place"].startswith("断桥")

    second = report(client, dispatcher, "Gushan")
    # A client that saw nothing yet asks for everything after sequence 0: both, in order.
    with client.websocket_connect(
        f"/api/v1/stream?topics=incident.created&after=0&token={token_of(dispatcher)}"
    ) as ws:
        replayed = [ws.receive_json(), ws.receive_json()]
    assert [m["event"]["incident_id"] for m in replayed] == [first, second]
    assert replayed[0]["seq"] < replayed[1]["seq"]
    # ...and after the first one's sequence, only the second.
    with client.websocket_connect(
        f"/api/v1/stream?topics=incident.created&after={replayed[0]['seq']}&token={token_of(dispatcher)}"
    ) as ws:
        assert ws.receive_json()["event"]["incident_id"] == second


def test_nobody_unauthenticated(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/api/v1/stream"):
        pass
    assert closed.value.code == 4401
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/api/v1/stream?token=forged"),
    ):
        pass


@pytest.mark.parametrize(
    ("role", "topic", "visible"),
    [
        (Role.DISPATCHER, "incident.created", True),
        (Role.FIELD_OFFICER, "incident.assignment", True),
        (Role.GUARD, "unit.position", True),
        (Role.RESIDENT, "incident.created", False),
        (Role.RESIDENT, "unit.status", False),
        (Role.DEVICE, "incident.created", False),
        (Role.AUDITOR, "anything.else", True),
        (Role.FIELD_OFFICER, "anything.else", False),
    ],
)
def test_who_sees_which_topics(role: Role, topic: str, visible: bool) -> None:
    assert may_see(Principal(subject="x", roles=frozenset({role})), topic) is visible


def test_a_bus_that_does_not_exist_yet_is_refused(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, bus_url="nats://127.0.0.1:4222"))
    with pytest.raises(RuntimeError, match="only the in-process bus"), TestClient(app):
        pass


def test_a_positions_only_token_cannot_listen(client: TestClient, db_engine: Engine) -> None:
    tracker = login_headers(db_engine, Role.DISPATCHER, scopes=("positions",))
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(f"/api/v1/stream?token={token_of(tracker)}"),
    ):
        pass
    assert closed.value.code == 4401
