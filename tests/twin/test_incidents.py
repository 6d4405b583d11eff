"""Incidents from exposure: rates, places, calibration against the source's half-year figures."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from lakeguard.incidents.gazetteer import Gazetteer
from lakeguard.twin.frame import CrowdFrame
from lakeguard.twin.incident_config import IncidentConfig
from lakeguard.twin.incidents import (
    Exposure,
    IncidentModel,
    TwinIncident,
    day_exposure,
    expected_counts,
    half_year_expectation,
)
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork

HOUR = 3600.0


@pytest.fixture(scope="module")
def config(westlake: Scenario) -> IncidentConfig:
    return IncidentConfig.for_scenario(westlake.source)


def frame(
    scenario: Scenario,
    t_s: float,
    hours: dict[str, float],
    occupancy: dict[str, int] | None = None,
    dt_s: float = 60.0,
) -> CrowdFrame:
    ids = tuple(a.id for a in scenario.areas)
    occupancy = occupancy or {}
    return CrowdFrame(
        t_s=t_s,
        dt_s=dt_s,
        area_ids=ids,
        occupancy=np.array([occupancy.get(a, 0) for a in ids], dtype=np.int64),
        exposure_s=np.array([hours.get(a, 0.0) * HOUR for a in ids], dtype=np.float64),
        gate_in={},
        gate_out={},
        in_venue=0,
        arrived=0,
        departed=0,
    )


def play(
    model: IncidentModel, scenario: Scenario, steps: int, **kwargs: object
) -> list[TwinIncident]:
    out: list[TwinIncident] = []
    for k in range(steps):
        out += model.step(frame(scenario, 60.0 * (k + 1), **kwargs))  # type: ignore[arg-type]
    return out


def count(incidents: list[TwinIncident], code: str) -> int:
    return sum(1 for i in incidents if i.type == code)


def test_counts_follow_the_rate_times_the_exposure(
    westlake: Scenario, westlake_network: TravelNetwork, config: IncidentConfig
) -> None:
    # Gushan is lakeside, land, not a mountain; empty (not crowded) while the hours accrue.
    model = IncidentModel(westlake, westlake_network, seed=5)
    play(model, westlake, 50, hours={"gushan": 20_000.0})
    assert model.exposure.all_h == pytest.approx(1e6)
    assert model.exposure.lakeside_h == pytest.approx(1e6) and model.exposure.crowded_h == 0
    medical = config.types["medical_emergency"].rates["all"]
    assert model.expected()["medical_emergency"] == pytest.approx(medical * 1e6)
    big = IncidentModel(westlake, westlake_network, seed=6)
    drawn = play(big, westlake, 40, hours={"gushan": 2_500_000.0})  # 100 M visitor-hours
    for code, rate in (
        ("medical_emergency", medical),
        ("lost_property", config.types["lost_property"].rates["all"]),
        ("person_in_water", config.types["person_in_water"].rates["lakeside"]),
    ):
        mean = rate * 1e8
        assert big.expected()[code] == pytest.approx(mean)
        assert abs(count(drawn, code) - mean) < 4 * math.sqrt(mean), code
    assert count(drawn, "hill_fire") == 0  # not a mountain, and a wet day


def test_crowds_raise_lost_children(
    westlake: Scenario, westlake_network: TravelNetwork, config: IncidentConfig
) -> None:
    hours = {"broken-bridge": 2_000_000.0}
    calm = IncidentModel(westlake, westlake_network, seed=1)
    crowded = IncidentModel(westlake, westlake_network, seed=1)
    calm_drawn = play(calm, westlake, 20, hours=hours, occupancy={"broken-bridge": 500})
    # 7,000 on 6,500 m²: above 1 person/m², so every hour there counts as crowded.
    crowded_drawn = play(crowded, westlake, 20, hours=hours, occupancy={"broken-bridge": 7000})
    assert calm.exposure.crowded_h == 0 and crowded.exposure.crowded_h == pytest.approx(4e7)
    rates = config.types["lost_child"].rates
    calm_mean = rates["all"] * 4e7
    crowd_mean = (rates["all"] + rates["crowded"]) * 4e7
    assert calm.expected()["lost_child"] == pytest.approx(calm_mean)
    assert crowded.expected()["lost_child"] == pytest.approx(crowd_mean)
    assert abs(count(crowded_drawn, "lost_child") - crowd_mean) < 4 * math.sqrt(crowd_mean)
    assert count(calm_drawn, "lost_child") < count(crowded_drawn, "lost_child") / 5


def test_hill_fires_only_on_dry_days_and_only_on_hills(
    westlake: Scenario, westlake_network: TravelNetwork, config: IncidentConfig
) -> None:
    hours = {"baoshi-hill": 1_000_000.0, "gushan": 1_000_000.0}
    wet = IncidentModel(westlake, westlake_network, seed=2)
    dry = IncidentModel(westlake, westlake_network, seed=2, dry=True)
    assert count(play(wet, westlake, 20, hours=hours), "hill_fire") == 0
    fires = [i for i in play(dry, westlake, 20, hours=hours) if i.type == "hill_fire"]
    mean = config.types["hill_fire"].rates["mountain"] * 2e7
    assert abs(len(fires) - mean) < 4 * math.sqrt(mean)
    assert {i.area_id for i in fires} == {"baoshi-hill"}


def test_water_only_by_the_water(westlake: Scenario, westlake_network: TravelNetwork) -> None:
    model = IncidentModel(westlake, westlake_network, seed=3)
    ids = [a.id for a in westlake.areas]
    lakeside = {a for a, near in zip(ids, model.lakeside, strict=True) if near}
    assert {"broken-bridge", "bai-causeway", "outer-lake", "hubin-lakeside"} <= lakeside
    assert not {"lingyin-temple", "feilai-peak", "longjing-village"} & lakeside
    drawn = play(model, westlake, 10, hours={"lingyin-temple": 10_000_000.0})
    assert count(drawn, "person_in_water") == 0 and count(drawn, "medical_emergency") > 0


def test_every_type_is_a_plan_code_and_none_the_platform_opens(
    westlake: Scenario, westlake_network: TravelNetwork, config: IncidentConfig
) -> None:
    assert westlake.plans is not None
    codes = {plan.code for plan in westlake.plans.plans}
    assert set(config.types) <= codes
    assert "crowd_crush_risk" not in config.types
    crush = config.types["theft"]
    wrong = config.model_copy(update={"types": {**config.types, "crowd_crush_risk": crush}})
    with pytest.raises(ValueError, match="crowd_crush_risk"):
        IncidentModel(westlake, westlake_network, seed=1, config=wrong)
    typo = config.model_copy(update={"types": {"lost_kid": crush}})
    with pytest.raises(ValueError, match="lost_kid"):
        IncidentModel(westlake, westlake_network, seed=1, config=typo)


@pytest.fixture(scope="module")
def many(westlake: Scenario, westlake_network: TravelNetwork) -> list[TwinIncident]:
    model = IncidentModel(westlake, westlake_network, seed=11, dry=True)
    hours = {a.id: 40_000.0 for a in westlake.areas}
    return play(model, westlake, 10, hours=hours)


def test_reports_locate_the_incident_one_way_and_truly(
    many: list[TwinIncident], westlake: Scenario
) -> None:
    gazetteer = Gazetteer.from_scenario(westlake)
    shapes = {a.id: a.shape for a in westlake.areas}
    assert len(many) > 300
    named = [i for i in many if i.place is not None]
    pinned = [i for i in many if i.lon is not None]
    assert named and pinned and len(named) + len(pinned) == len(many)
    for incident in named:
        assert incident.lon is None and incident.lat is None
        assert gazetteer.resolve(incident.place).area_id == incident.area_id  # type: ignore[arg-type]
    for incident in pinned:
        assert incident.place is None and incident.lat is not None
        assert shapes[incident.area_id].covers(shapely.Point(incident.lon, incident.lat))
    assert {i.source for i in many} <= {"phone", "walk_in", "patrol", "app", "resident_group"}
    assert all(i.source not in ("app", "patrol") for i in named)


def test_reports_read_like_calls(many: list[TwinIncident], config: IncidentConfig) -> None:
    assert [i.seq for i in many] == list(range(1, len(many) + 1))
    assert [i.t_s for i in many] == sorted(i.t_s for i in many)
    assert all(0 < i.t_s <= 600 for i in many)
    for incident in many:
        handling = config.types[incident.type].handling
        assert handling.min_s <= incident.handling_s <= handling.max_s
        assert "{" not in incident.description and "（" in incident.description
        assert incident.caller["name"]
    children = [i for i in many if i.type == "lost_child"]
    assert children and all(any(w in i.description for w in ("男孩", "女孩")) for i in children)
    assert len({i.description for i in many}) > len(many) / 2


def test_the_same_seed_gives_the_same_day(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    hours = {"hubin-lakeside": 50_000.0, "baoshi-hill": 20_000.0}
    a = play(IncidentModel(westlake, westlake_network, seed=9), westlake, 5, hours=hours)
    b = play(IncidentModel(westlake, westlake_network, seed=9), westlake, 5, hours=hours)
    c = play(IncidentModel(westlake, westlake_network, seed=10), westlake, 5, hours=hours)
    assert a == b and a != c


def test_a_frame_from_another_scenario_is_refused(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    model = IncidentModel(westlake, westlake_network, seed=1)
    good = frame(westlake, 60.0, {})
    with pytest.raises(ValueError, match="areas"):
        model.step(CrowdFrame(**{**good.__dict__, "area_ids": good.area_ids[::-1]}))


def test_the_calibration_lands_on_the_source_figures(config: IncidentConfig) -> None:
    half = half_year_expectation(config)
    counts = half.counts
    # "35 people rescued from the water, 54 lost or trapped people rescued, 130+ days
    # without a criminal incident" since the start of the year.
    assert counts["person_in_water"] == pytest.approx(35, abs=1)
    assert counts["lost_child"] + counts["lost_adult"] == pytest.approx(54, abs=1.5)
    assert half.crime_free_days == pytest.approx(130, abs=2)
    assert half.peak_day.all_h == config.calibration.peak.all_h
    # A peak day carries more than three times the incidents of an ordinary one.
    peak = sum(expected_counts(config, half.peak_day, dry=False).values())
    ordinary = sum(expected_counts(config, half.ordinary_day, dry=False).values())
    assert peak > 3 * ordinary


def test_expected_counts_are_linear_and_hill_fires_need_dry_days(config: IncidentConfig) -> None:
    one = Exposure(all_h=1e6, crowded_h=1e5, lakeside_h=5e5, mountain_h=1e5)
    wet, dry = expected_counts(config, one, dry=False), expected_counts(config, one, dry=True)
    fire, theft = config.types["hill_fire"].rates, config.types["theft"].rates
    assert wet["hill_fire"] == 0 and dry["hill_fire"] == pytest.approx(fire["mountain"] * 1e5)
    assert wet["theft"] == pytest.approx(theft["all"] * 1e6 + theft["crowded"] * 1e5)
    doubled = expected_counts(config, one + one, dry=False)
    assert all(doubled[k] == pytest.approx(2 * v) for k, v in wet.items())


@pytest.mark.parametrize("kind", ["ordinary", "peak"])
def test_the_calibration_days_are_the_visitor_models_days(
    config: IncidentConfig, westlake: Scenario, westlake_network: TravelNetwork, kind: str
) -> None:
    """The rates were fitted to these days: if the visitor model moves, they must be re-fitted."""
    stated = getattr(config.calibration, kind)
    measured = day_exposure(westlake, westlake_network, visitors=stated.visitors, seed=1)
    for name in ("all_h", "crowded_h", "lakeside_h", "mountain_h"):
        assert getattr(measured, name) == pytest.approx(getattr(stated, name), rel=0.01), name
