"""What the dashboard needs from the stream: a sequence number on every event, a clear word
when a gap is too long to replay, and a session cookie accepted from its own origin only."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from lakeguard.api import stream
from lakeguard.auth.roles import Role
from tests.auth.helpers import browser_login, login_headers


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _report(client: Any, headers: dict[str, str], place: str) -> int:
    body = {"type": "theft", "source": "phone", "place": place}
    created = client.post("/api/v1/incidents", headers=headers, json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_live_events_carry_their_sequence_number(westlake_world: dict[str, Any]) -> None:
    client, engine = westlake_world["client"], westlake_world["engine"]
    dispatcher = login_headers(engine, Role.DISPATCHER)
    with client.websocket_connect(
        f"/api/v1/stream?topics=incident.created&token={_token(dispatcher)}"
    ) as ws:
        _report(client, dispatcher, "断桥")
        live = ws.receive_json()
    (logged,) = client.get("/api/v1/events?topics=incident.created", headers=dispatcher).json()[
        "events"
    ]
    assert live["seq"] == logged["seq"] and live["event"] == logged["event"]


def test_a_gap_longer_than_a_replay_is_announced(
    westlake_world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, engine = westlake_world["client"], westlake_world["engine"]
    dispatcher = login_headers(engine, Role.DISPATCHER)
    for place in ("断桥", "孤山"):
        _report(client, dispatcher, place)
    monkeypatch.setattr(stream, "REPLAY_LIMIT", 1)
    with client.websocket_connect(f"/api/v1/stream?after=0&token={_token(dispatcher)}") as ws:
        first = ws.receive_json()
    assert first["topic"] == "stream.gap" and first["seq"] is None
    # Within the limit the replay is sent as before.
    monkeypatch.setattr(stream, "REPLAY_LIMIT", 100)
    with client.websocket_connect(
        f"/api/v1/stream?after=0&topics=incident.created&token={_token(dispatcher)}"
    ) as ws:
        assert ws.receive_json()["topic"] == "incident.created"


def test_a_session_cookie_opens_the_stream_from_its_own_origin_only(
    westlake_world: dict[str, Any],
) -> None:
    client, engine = westlake_world["client"], westlake_world["engine"]
    dispatcher = login_headers(engine, Role.DISPATCHER)
    browser_login(client, engine, Role.DISPATCHER)
    with client.websocket_connect(
        "/api/v1/stream?topics=incident.created", headers={"Origin": "http://testserver"}
    ) as ws:
        incident = _report(client, dispatcher, "断桥")
        assert ws.receive_json()["event"]["incident_id"] == incident
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/api/v1/stream", headers={"Origin": "https://elsewhere.example"}),
    ):
        pass
    assert refused.value.code == 4401
