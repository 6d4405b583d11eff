"""The page's state rules, run in Chromium: a stale snapshot plus the events of what happened
since equals a fresh snapshot (as Zulip tests its events).

The page's own module (static/js/state.js) applies the stream's replay after the first
snapshot's sequence number; the second snapshot is the server's answer for the same moment.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.conftest import World, log_in

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect
expect.set_options(timeout=20_000)

TAKE_SNAPSHOT = """async () => {
  window.stateModule = await import("/static/js/state.js");
  window.before = await (await fetch("/api/v1/dashboard/snapshot")).json();
  return window.before.seq;
}"""

REPLAY_AND_COMPARE = """async () => {
  const { apply, comparable, fromSnapshot } = window.stateModule;
  const after = await (await fetch("/api/v1/dashboard/snapshot")).json();
  const messages = await new Promise((resolve, reject) => {
    const got = [];
    const ws = new WebSocket(`ws://${location.host}/api/v1/stream?after=${window.before.seq}`);
    ws.onmessage = (m) => {
      const message = JSON.parse(m.data);
      got.push(message);
      if (message.seq !== null && message.seq >= after.seq) { ws.close(); resolve(got); }
    };
    ws.onerror = () => reject(new Error("the stream failed"));
  });
  const state = fromSnapshot(window.before);
  for (const message of messages) apply(state, message);
  return {
    topics: [...new Set(messages.map((m) => m.topic))].sort(),
    live: comparable(state),
    fresh: comparable(fromSnapshot(after)),
    stale: comparable(fromSnapshot(window.before)),
  };
}"""


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def _run_the_room(world: World) -> None:
    """A little of everything a command room sees, through the API, off the page."""
    api = world.api
    first = _ok(
        api.post(
            "/api/v1/incidents",
            json={"type": "medical_emergency", "source": "phone", "place": "断桥"},
        )
    )
    sent = _ok(
        api.post(f"/api/v1/incidents/{first['id']}/dispatch", json={"accept_recommendation": True})
    )
    unit = sent["dispatched"][0]
    for status in ("acknowledged", "on_scene", "resolved"):
        _ok(
            api.post(f"/api/v1/incidents/{first['id']}/assignments/{unit}", json={"status": status})
        )
    second = _ok(
        api.post(
            "/api/v1/incidents",
            json={"type": "theft", "source": "walk_in", "lon": 120.1485, "lat": 30.2562},
        )
    )
    _ok(api.post(f"/api/v1/incidents/{second['id']}/cancel"))
    idle = next(
        u
        for u in _ok(api.get("/api/v1/units", params={"status": "available"}))
        if u["id"] not in sent["dispatched"]
    )
    _ok(api.post(f"/api/v1/units/{idle['id']}/status", json={"status": "unavailable"}))
    now = datetime.now(UTC).isoformat()
    _ok(
        api.post(
            f"/api/v1/units/{unit}/positions",
            json={"lat": 30.2601, "lon": 120.1522, "timestamp": now},
        )
    )


def test_snapshot_plus_events_is_a_fresh_snapshot(browser: Any, world: World) -> None:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    try:
        log_in(page, world.url + "/", world.dispatcher)
        expect(page.locator("#room")).to_be_visible()
        page.evaluate(TAKE_SNAPSHOT)
        _run_the_room(world)
        result = page.evaluate(REPLAY_AND_COMPARE)
    finally:
        context.close()
    assert result["topics"] == [
        "incident.assignment", "incident.created", "incident.status", "unit.position", "unit.status",
    ]  # fmt: skip
    # The test means something only if the room changed in between.
    assert result["stale"] != result["fresh"]
    assert result["live"] == result["fresh"]
