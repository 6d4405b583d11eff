"""The dashboard and the field view in headless Chromium against a live server.

Every wait is on a condition in the page (Playwright's ``expect``), never a sleep.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from lakeguard.forces.engine import PositionReport
from lakeguard.forces.service import get_unit, record_position
from lakeguard.incidents import service as incidents
from lakeguard.incidents.gazetteer import Gazetteer
from lakeguard.store.session import make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from tests.e2e.conftest import World, log_in

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect
# Recommendations route every unit through the network; give the page time on a busy machine.
expect.set_options(timeout=20_000)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh English-speaking browser whose script errors fail the test."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"the page threw: {errors}"


def open_dashboard(page: Any, world: World, username: str | None = None) -> None:
    log_in(page, world.url + "/", username or world.dispatcher)
    expect(page.locator("#room")).to_be_visible()
    expect(page.locator("#stream-status")).to_have_attribute("data-state", "live")


def test_dispatcher_reports_dispatches_and_sees_the_acknowledgement(
    page: Any, world: World, artifacts: Path
) -> None:
    open_dashboard(page, world)
    # The map is the scenario's own layers: the West Lake areas are drawn, no tiles are asked.
    expect(page.locator("path[data-area=broken-bridge]")).to_have_count(1)
    expect(page.locator("path[data-area=outer-lake]")).to_have_count(1)
    assert page.locator(".leaflet-tile").count() == 0

    page.select_option("#create select[name=type]", "medical_emergency")
    page.fill("#create input[name=place]", "断桥")
    expect(page.locator("#place-options option").first).to_have_attribute("value", "断桥")
    page.fill("#create textarea[name=description]", "elderly man collapsed by the east end")
    page.click("#create button[type=submit]")

    title = page.locator("#incident-title")
    expect(title).to_contain_text("Medical emergency")
    expect(title).to_contain_text("Broken Bridge")
    incident_id = int(title.inner_text().split()[0].lstrip("#"))
    queued = page.locator(f"#queue li[data-incident='{incident_id}']")
    expect(queued).to_contain_text("received")

    recommended = page.locator("#recommendation li")
    expect(recommended.first).to_be_visible()
    expect(recommended.first.locator(".reasons")).not_to_be_empty()
    expect(page.locator("#dispatch")).to_be_enabled()
    page.click("#dispatch")

    assignments = page.locator("#assignments li")
    expect(assignments.first).to_contain_text("dispatched")
    expect(queued).to_contain_text("dispatched")
    expect(page.locator("#timeline")).to_contain_text("dispatched")
    unit_id = assignments.first.get_attribute("data-unit")
    marker = page.locator(f".unit[data-unit='{unit_id}']")
    expect(marker).to_have_class(re.compile(r"\bs-assigned\b"))

    # The unit acknowledges from its own device, outside this page: the stream brings it.
    answer = world.api.post(
        f"/api/v1/incidents/{incident_id}/assignments/{unit_id}", json={"status": "acknowledged"}
    )
    assert answer.status_code == 200, answer.text
    expect(page.locator(f"#assignments li[data-unit='{unit_id}'] .status")).to_have_text("en route")
    expect(marker).to_have_class(re.compile(r"\bs-en_route\b"))
    open_now = len(world.api.get("/api/v1/incidents", params={"status": "open"}).json())
    expect(page.locator("[data-figure=incidents_open] strong")).to_have_text(str(open_now))
    page.screenshot(path=artifacts / "dashboard.png")


def test_a_dispatcher_strikes_a_recommended_unit_and_adds_one_by_hand(
    page: Any, world: World
) -> None:
    open_dashboard(page, world)
    page.select_option("#create select[name=type]", "theft")
    page.fill("#create input[name=place]", "断桥")
    page.click("#create button[type=submit]")
    recommended = page.locator("#recommendation li")
    expect(recommended.first).to_be_visible()
    struck = recommended.first.get_attribute("data-unit")
    recommended.first.locator("input.pick").uncheck()
    expect(page.locator("#dispatch")).to_have_text("Dispatch the units ticked")

    extra = page.locator("#unit-options option").first
    expect(extra).to_be_attached()
    callsign = extra.get_attribute("value")
    page.fill("#add-unit input", "NO-SUCH-UNIT")
    page.click("#add-unit button")
    expect(page.locator("#incident-error")).to_contain_text("NO-SUCH-UNIT")
    page.fill("#add-unit input", callsign)
    page.click("#add-unit button")
    added = page.locator("#recommendation li").last
    expect(added).to_contain_text(callsign)
    expect(added.locator(".reasons")).to_have_text("dispatcher's choice")
    added_unit = added.get_attribute("data-unit")

    page.click("#dispatch")
    # The unit added by hand went; the one struck off did not.
    expect(page.locator(f"#assignments li[data-unit='{added_unit}']")).to_be_visible()
    expect(page.locator(f"#assignments li[data-unit='{struck}']")).to_have_count(0)


def test_an_unknown_place_is_answered_with_the_closest_names(page: Any, world: World) -> None:
    open_dashboard(page, world)
    page.fill("#create input[name=place]", "Broken Pier")
    page.click("#create button[type=submit]")
    expect(page.locator("#create-error")).to_contain_text("Broken Bridge")


def test_guards_can_be_taken_off_the_map_and_put_back(page: Any, world: World) -> None:
    open_dashboard(page, world)
    guards = page.locator(".unit.k-security_guard")
    police = page.locator(".unit.k-officer")
    expect(guards.first).to_be_attached()
    expect(police.first).to_be_attached()
    switch = page.locator(".leaflet-control-layers label", has_text="Security guards")
    switch.locator("input").uncheck()
    expect(guards).to_have_count(0)
    expect(police.first).to_be_attached()  # only the guards' layer went
    switch.locator("input").check()
    expect(guards.first).to_be_attached()


def test_language_follows_the_browser_and_switches_in_the_page(browser: Any, world: World) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        open_dashboard(page, world)
        expect(page.locator("h1")).to_have_text("LakeGuard 指挥中心")
        expect(page.locator("#create select[name=type] option[value=lost_child]")).to_have_text(
            "P1 儿童走失"
        )
        expect(page.locator("[data-figure=visitors_now] span")).to_have_text("当前在园游客")
        expect(page.locator("[data-unit-layer=guards]")).to_have_text("保安力量")
        page.click("#lang")
        expect(page.locator("h1")).to_have_text("LakeGuard command room")
        expect(page.locator("#create select[name=type] option[value=lost_child]")).to_have_text(
            "P1 Lost child"
        )
        expect(page.locator("[data-figure=visitors_now] span")).to_have_text("visitors now")
        expect(page.locator("[data-unit-layer=guards]")).to_have_text("Security guards")
        # The choice outlives a reload.
        page.reload()
        expect(page.locator("h1")).to_have_text("LakeGuard command room")
    finally:
        context.close()


def test_an_auditor_reads_but_cannot_act(page: Any, world: World) -> None:
    open_dashboard(page, world, world.auditor)
    expect(page.locator("#create")).to_be_hidden()
    expect(page.locator("#who")).to_contain_text("auditor")


def test_the_page_says_when_the_stream_is_down_and_misses_nothing_across_it(
    page: Any, world: World, westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    open_dashboard(page, world)
    banner = page.locator("#stream-banner")
    expect(banner).to_be_hidden()

    world.server.stop()
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Live updates are down")
    expect(page.locator("#stream-status")).to_have_attribute("data-state", "down")

    # While the server is away an incident is recorded straight into the database (as a
    # second API process would); the page must show it once it is back, from the replay.
    context = incidents.VenueContext(westlake, westlake_network, Gazetteer.from_scenario(westlake))
    with transaction(make_sessionmaker(world.engine)) as session:
        row = incidents.create_incident(
            session, venue=context, type="theft", source="phone", actor="test",
            now=datetime.now(UTC), place="孤山",
        )  # fmt: skip
        missed = row.id
    world.server.start()
    expect(banner).to_be_hidden()
    expect(page.locator(f"#queue li[data-incident='{missed}']")).to_contain_text("Theft")


def test_the_patrol_tab_shows_a_day_of_compliance(page: Any, world: World) -> None:
    # Yesterday the officer reported from one spot at 10:00 and 10:10 local: ten minutes tracked.
    zone = ZoneInfo("Asia/Shanghai")
    yesterday = datetime.now(zone).date() - timedelta(days=1)
    with transaction(make_sessionmaker(world.engine)) as session:
        unit = get_unit(session, unit_id=world.officer_unit)
        callsign, lon, lat = unit.callsign, unit.lon, unit.lat
        for minute in (0, 10):
            at = datetime.combine(yesterday, time(10, minute), zone)
            report = PositionReport(lat=lat, lon=lon, reported_at=at)
            record_position(session, unit_id=world.officer_unit, report=report, source="api",
                            now=at, max_age_s=900)  # fmt: skip
    open_dashboard(page, world)
    page.click("[data-tab=patrol]")
    expect(page.locator("#patrol-summary")).to_contain_text("units with a post")
    page.fill("#patrol-day", yesterday.isoformat())
    page.dispatch_event("#patrol-day", "change")
    row = page.locator(f"#patrol-rows tr[data-unit='{world.officer_unit}']")
    expect(row).to_contain_text(callsign)
    expect(page.locator("#patrol-summary")).to_contain_text("1 with positions")
