"""The field view on a phone-sized Chromium: an officer's assignment, its buttons, positions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import World, log_in

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect
expect.set_options(timeout=20_000)


def test_field_officer_sees_the_assignment_and_moves_it_on(
    browser: Any, world: World, artifacts: Path
) -> None:
    created = world.api.post(
        "/api/v1/incidents",
        json={
            "type": "lost_child", "source": "phone", "place": "Gushan",
            "description": "girl, 5, red coat, answers to Lili",
        },
    )  # fmt: skip
    assert created.status_code == 201, created.text
    incident_id = created.json()["id"]
    sent = world.api.post(
        f"/api/v1/incidents/{incident_id}/dispatch", json={"unit_ids": [world.officer_unit]}
    )
    assert sent.status_code == 200, sent.text

    context = browser.new_context(
        locale="en-GB",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        geolocation={"latitude": 30.2585, "longitude": 120.1415},
        permissions=["geolocation"],
    )
    page = context.new_page()
    try:
        log_in(page, world.url + "/field", world.officer)
        expect(page.locator("#task-title")).to_contain_text("Lost child")
        expect(page.locator("#task-place")).to_have_text("Gushan Island")
        expect(page.locator("#task-description")).to_have_text("girl, 5, red coat, answers to Lili")
        expect(page.locator("#task-status")).to_have_text("dispatched")
        page.screenshot(path=artifacts / "field.png")

        for button, status in (("Acknowledge", "en route"), ("On scene", "on scene")):
            expect(page.locator("#advance")).to_have_text(button)
            page.click("#advance")
            expect(page.locator("#task-status")).to_have_text(status)
        unit = world.api.get(f"/api/v1/units/{world.officer_unit}").json()
        assert unit["status"] == "on_scene"

        # The dispatcher side resolves nothing here; the officer does, and the task ends.
        page.click("#advance")
        expect(page.locator("#idle")).to_be_visible()

        page.check("#share")
        expect(page.locator("#share-status")).to_contain_text("Position sent")
        position = world.api.get(f"/api/v1/units/{world.officer_unit}").json()["position"]
        assert (position["lat"], position["lon"]) == (30.2585, 120.1415)
    finally:
        context.close()
