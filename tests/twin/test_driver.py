"""A short twin through the API of an embedded platform, checked against invariants.

A few thousand visitors and one simulated hour of a day (10:00 to 11:00, when the venue is
filling), with the incident rates raised so the hour holds enough calls to check.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from lakeguard.twin.driver import TwinDay, TwinOptions
from lakeguard.twin.embedded import embedded_platform
from lakeguard.twin.pace import BatchPace
from lakeguard.twin.render import write_report
from lakeguard.twin.report import build_report, estimate_series
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from tests.conftest import unit_subset

OPTIONS = TwinOptions(
    visitors=8000, seed=7, start_s=10 * 3600, end_s=11 * 3600, incident_rate_scale=400.0
)


def play(
    scenario: Scenario, network: TravelNetwork, folder: Path, options: TwinOptions = OPTIONS
) -> dict[str, Any]:
    from lakeguard.forces.deployment import westlake_deployment

    midnight = datetime.combine(
        options.day, datetime.min.time(), ZoneInfo(scenario.config.timezone)
    )
    units = unit_subset(westlake_deployment(scenario, np.random.default_rng(1), network=network))
    with embedded_platform(folder, scenario, network, start=midnight, units=units) as platform:
        twin = TwinDay(scenario, network, platform.api, options, BatchPace(platform.clock))
        twin.prepare()
        record = twin.run()
        kinds = {u.unit_id: u.kind for u in twin.unit_specs}
        run = {"scenario": scenario.id, "day": str(options.day), "visitors": options.visitors}
        run |= {"seed": options.seed, "start": "10:00", "end": "11:00"}
        run["api_calls"] = platform.api.calls
        estimates = estimate_series(platform.api, scenario, midnight)
        report = build_report(
            record,
            platform.api,
            scenario,
            network,
            run=run,
            midnight=midnight,
            unit_kinds=kinds,
            estimates=estimates,
        )
        incidents = [platform.api.incident(i["id"]) for i in platform.api.incidents()]
        units = platform.api.units()
    return {
        "twin": twin,
        "record": record,
        "report": report,
        "incidents": incidents,
        "units": units,
        "estimates": estimates,
    }


@pytest.fixture(scope="module")
def day(
    westlake: Scenario, westlake_network: TravelNetwork, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    return play(westlake, westlake_network, tmp_path_factory.mktemp("twin"))


def test_no_visitor_is_counted_twice_and_no_area_goes_negative(day: dict[str, Any]) -> None:
    record = day["record"]
    played = slice(0, record.steps)  # midnight to 11:00, the last hour through the platform
    occupancy, in_venue = record.occupancy[played], record.in_venue[played]
    assert (in_venue[-60:] > 0).all(), "the venue should hold visitors through the played hour"
    assert (occupancy >= 0).all()
    assert (occupancy.sum(axis=1) <= in_venue).all()
    inside = np.cumsum(record.arrived[played]) - np.cumsum(record.departed[played])
    assert (inside == in_venue).all()


def test_the_hour_reached_the_platform(day: dict[str, Any]) -> None:
    checks = day["report"]["checks"]
    assert checks["observations_sent"] > 0 and checks["observations_refused"] == 0
    assert checks["positions_sent"] > 0
    # The trackers' reports became the units' positions (none was taken as arriving late).
    hour_start = day["twin"].at(OPTIONS.start_s)
    moved = [
        u
        for u in day["units"]
        if u["position"] and datetime.fromisoformat(u["position"]["reported_at"]) > hour_start
    ]
    assert len(moved) >= 100, f"{len(moved)} of {len(day['units'])} units moved"
    assert day["report"]["incidents"]["total_recorded"] >= 5
    assert checks["anomaly_count"] == 0, checks["anomalies"]


def test_every_incident_is_closed_or_open_with_a_reason(day: dict[str, Any]) -> None:
    reasons = day["record"].open_reasons
    statuses = {i["id"]: i["status"] for i in day["incidents"]}
    assert any(s == "closed" for s in statuses.values()), "an hour should close some incidents"
    for incident_id, status in statuses.items():
        assert status == "closed" or reasons.get(incident_id), (incident_id, status)
    assert all(statuses[i] != "closed" for i in reasons)


def test_no_unit_arrives_sooner_than_its_route_allows(day: dict[str, Any]) -> None:
    twin, record = day["twin"], day["record"]
    assert record.dispatches, "the hour's incidents should have been dispatched"
    midnight = twin.midnight
    for d in record.dispatches:
        assert d.on_scene_s >= d.free_flow_s - 1e-6, d
    # The platform's own timeline agrees: on scene no sooner than the bound, never before
    # the dispatch.
    bound = {(d.incident_id, d.unit_id): d.free_flow_s for d in record.dispatches}
    for incident in day["incidents"]:
        for step in incident["timeline"]:
            key = (incident["id"], step["unit_id"])
            if step["to"] == "on_scene" and key in bound:
                at = (datetime.fromisoformat(step["at"]) - midnight).total_seconds()
                assert at >= bound[key] - 1.0, (key, at, bound[key])


def test_the_same_seed_gives_the_same_report(
    day: dict[str, Any],
    westlake: Scenario,
    westlake_network: TravelNetwork,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    again = play(westlake, westlake_network, tmp_path_factory.mktemp("twin-again"))
    assert json.dumps(again["report"], sort_keys=True) == json.dumps(day["report"], sort_keys=True)


def test_the_report_is_written(day: dict[str, Any], westlake: Scenario, tmp_path: Path) -> None:
    written = write_report(day["report"], day["record"], westlake, tmp_path, day["estimates"])
    names = {p.name for p in written}
    assert {"report.json", "report.md", "broken-bridge.png"} <= names
    text = (tmp_path / "report.md").read_text()
    assert "## Calibration" in text and "Broken Bridge" in text
    bridge = next(h for h in day["report"]["hotspots"] if h["area"] == "broken-bridge")
    assert bridge["platform_samples"] >= 30, "the platform sampled the bridge through the hour"
    assert json.loads((tmp_path / "report.json").read_text())["run"]["seed"] == OPTIONS.seed
