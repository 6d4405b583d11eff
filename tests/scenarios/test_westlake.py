"""The bundled West Lake scenario: it loads, and it holds the facts of the model case."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from lakeguard.venue.coverage import hotspot_coverage
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.reach import Fleet, fastest_units
from lakeguard.venue.schema import AreaKind, Domain, Mode
from lakeguard.venue.summary import venue_summary

BROKEN_BRIDGE = (120.1517, 30.2597)
LINGYIN = (120.1010, 30.2409)


def test_seventeen_points_and_forty_six_segments(westlake: Scenario) -> None:
    kinds = Counter(p.kind for p in westlake.posts)
    assert kinds == {"point": 17, "segment": 46}


def test_yuemiao_station_has_three_points_and_four_segments(westlake: Scenario) -> None:
    yuemiao = Counter(p.kind for p in westlake.posts if p.station == "yuemiao")
    assert yuemiao == {"point": 3, "segment": 4}
    bridge = next(p for p in westlake.posts if p.id == "pt-broken-bridge")
    assert bridge.staffing.hours == "24h"
    assert bridge.station == "yuemiao"


def test_the_named_stations_and_all_four_domains(westlake: Scenario) -> None:
    assert {"yuemiao", "lingyin", "liulang"} <= {s.id for s in westlake.stations}
    assert {p.domain for p in westlake.posts} == set(Domain)
    assert {a.domain for a in westlake.areas} >= {Domain.WATER, Domain.MOUNTAIN, Domain.LAND}


def test_hotspots_follow_the_capacity_standard(westlake: Scenario) -> None:
    hotspots = [a for a in westlake.areas if a.kind == AreaKind.HOTSPOT]
    assert len(hotspots) >= 12
    for area in hotspots:
        assert area.space_per_visitor_m2 in (5.0, 50.0), area.id
        assert area.capacity == math.floor(area.usable_m2 / area.space_per_visitor_m2)
    names = {a.name.en for a in hotspots} | {a.name.zh for a in hotspots}
    assert {"断桥", "灵隐寺"} & names or any("Broken Bridge" in n for n in names)


def test_hubin_can_hold_a_level_one_crowd(westlake: Scenario) -> None:
    hubin = [a for a in westlake.areas if "hubin" in a.id]
    assert hubin and max(a.capacity or 0 for a in hubin) > 80_000


def test_lake_surface_is_about_six_point_four_square_km(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    water = [a for a in westlake.areas if a.domain == Domain.WATER and a.kind == AreaKind.WATER]
    projection = westlake_network.projection
    lake_m2 = sum(
        projection.geometry_to_xy(a.shape).area for a in water if "lake" in a.id or "hu" in a.id
    )
    assert 4.5e6 < lake_m2 < 9e6


def test_network_is_dense_and_every_mode_is_there(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    summary = venue_summary(westlake, westlake_network)
    assert summary["points"] == 17 and summary["segments"] == 46
    assert westlake_network.edge_length.max() <= 25.0 + 1e-6
    for mode in (Mode.WALK, Mode.VEHICLE, Mode.BOAT):
        assert westlake_network.length_m(mode) > 0
    assert westlake_network.length_m(Mode.WALK) > 60_000


def test_a_walker_on_the_broken_bridge_reaches_lingyin_in_about_an_hour(
    westlake_network: TravelNetwork,
) -> None:
    # 5 km straight; along the roads 6-8 km: 75-110 minutes at 1.34 m/s.
    walk = westlake_network.travel_times([BROKEN_BRIDGE], [LINGYIN], Mode.WALK)[0, 0]
    car = westlake_network.travel_times([BROKEN_BRIDGE], [LINGYIN], Mode.VEHICLE)[0, 0]
    assert 60 * 60 < walk < 120 * 60
    assert car < walk / 3


def test_the_broken_bridge_point_answers_within_a_minute(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    found = {c.area_id: c.share for c in hotspot_coverage(westlake, westlake_network, 60)}
    bridge = next(a.id for a in westlake.areas if a.kind == AreaKind.HOTSPOT and "broken" in a.id)
    assert found[bridge] > 0.3
    assert np.mean(list(found.values())) > 0.2


def test_fastest_units_on_west_lake(westlake_network: TravelNetwork) -> None:
    fleet = Fleet.place(
        westlake_network,
        ["near", "far", "drone"],
        [(120.1520, 30.2595), LINGYIN, (120.1625, 30.2578)],
        [Mode.WALK, Mode.WALK, Mode.DRONE],
    )
    ranked = fastest_units(westlake_network, fleet, BROKEN_BRIDGE, k=3)
    assert [r.unit_id for r in ranked] == ["near", "drone", "far"]
    assert ranked[0].seconds < 60


@pytest.mark.parametrize(
    "name", ["Broken Bridge", "断桥", "Lingyin Temple", "灵隐寺", "Su Causeway", "苏堤"]
)
def test_places_a_caller_would_name_are_there(westlake: Scenario, name: str) -> None:
    names = [a.name.en for a in westlake.areas] + [a.name.zh for a in westlake.areas]
    aliases = [alias for a in westlake.areas for alias in a.aliases]
    assert any(name in n for n in names + aliases)
