"""The West Lake deployment: figures, placement and determinism."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from lakeguard.forces.deployment import (
    GUARD_UNITS,
    MODEL_COMPANIES,
    POLICE_UNITS,
    UnitSpec,
    apportion,
    westlake_deployment,
)
from lakeguard.forces.engine import Capability, UnitKind, unit_problems
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import Domain, Mode, SensorKind

K = UnitKind


@pytest.fixture(scope="module")
def units(westlake: Scenario, westlake_network: TravelNetwork) -> list[UnitSpec]:
    return westlake_deployment(westlake, np.random.default_rng(1), network=westlake_network)


def test_three_hundred_police_and_seventeen_hundred_guards(units: list[UnitSpec]) -> None:
    guards = [u for u in units if u.kind == K.SECURITY_GUARD]
    police = [u for u in units if u.kind != K.SECURITY_GUARD]
    assert (len(police), len(guards)) == (POLICE_UNITS, GUARD_UNITS) == (300, 1700)
    assert all(u.station and u.company is None for u in police)
    assert all(u.company and u.station is None for u in guards)
    assert {u.company for u in guards} == {c.id for c in MODEL_COMPANIES}
    assert len({u.id for u in units}) == len({u.callsign for u in units}) == 2000


def test_the_specialised_teams(units: list[UnitSpec], westlake: Scenario) -> None:
    kinds = Counter(u.kind for u in units)
    assert kinds[K.DRONE] == 10 and kinds[K.BOAT] == 12 and kinds[K.PATROL_CAR] == 16
    assert kinds[K.PLAINCLOTHES] == 24 and kinds[K.OFFICER] > 0 and kinds[K.AUXILIARY] > 0
    posts = {p.id: p for p in westlake.posts}
    bases = {
        tuple(s.geometry["coordinates"])
        for s in westlake.sensors
        if s.kind == SensorKind.DRONE_STATION
    }
    for u in units:
        if u.kind == K.DRONE:
            assert u.mode == Mode.DRONE and Capability.DRONE in u.capabilities
            assert (u.lon, u.lat) in bases  # at a drone station
            assert posts[u.home_post].domain == Domain.AIR  # type: ignore[index]
        if u.kind == K.BOAT:
            assert u.mode == Mode.BOAT and Capability.WATER_RESCUE in u.capabilities
            assert posts[u.home_post].domain == Domain.WATER  # type: ignore[index]
        if u.kind == K.PATROL_CAR:
            assert u.mode == Mode.VEHICLE
    mountain = [u for u in units if u.kind == K.TEAM and Capability.MOUNTAIN in u.capabilities]
    assert len(mountain) == sum(p.domain == Domain.MOUNTAIN for p in westlake.posts)
    assert all({Capability.FIRE, Capability.FIRST_AID} <= set(u.capabilities) for u in mountain)
    roaming = [u for u in units if u.kind == K.TEAM and u.home_post is None]
    assert len(roaming) == 4 and all(Capability.PLAINCLOTHES in u.capabilities for u in roaming)


def test_every_unit_is_valid_and_on_its_network(
    units: list[UnitSpec], westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    stations = {s.id for s in westlake.stations}
    posts = {p.id for p in westlake.posts}
    for u in units:
        assert unit_problems(u.kind, u.mode, u.capabilities) == []
        assert u.station is None or u.station in stations
        assert u.home_post is None or u.home_post in posts
    for mode in (Mode.WALK, Mode.VEHICLE, Mode.BOAT):
        on_mode = [u for u in units if u.mode == mode]
        snaps = westlake_network.snap(np.array([[u.lon, u.lat] for u in on_mode]), mode)
        assert snaps.distance_m.max() <= 60, mode
    for mode in (Mode.VEHICLE, Mode.BOAT):  # cars on the road, boats on the water
        on_mode = [u for u in units if u.mode == mode]
        assert (
            westlake_network.snap(
                np.array([[u.lon, u.lat] for u in on_mode]), mode
            ).distance_m.max()
            < 0.5
        )


def test_points_get_their_staffing_and_guards_gather_at_hotspots(
    units: list[UnitSpec], westlake: Scenario
) -> None:
    at_post = Counter(u.home_post for u in units if u.kind in (K.OFFICER, K.AUXILIARY))
    for post in westlake.posts:
        if post.kind == "point" and post.domain == Domain.LAND:
            assert at_post[post.id] >= post.staffing.min_units, post.id
    guards = Counter(u.home_post for u in units if u.kind == K.SECURITY_GUARD)
    hotspots = {a.id for a in westlake.areas if a.kind.value in ("hotspot", "entrance")}
    assert guards["pt-longxiangqiao"] > 3 * guards["seg-longjing-rd"]
    assert sum(guards.values()) == 1700 and len(hotspots) > 0


def test_segments_spread_their_units_along_the_line(units: list[UnitSpec]) -> None:
    on_causeway = [(u.lon, u.lat) for u in units if u.home_post == "seg-su-causeway-north"]
    lats = sorted(lat for _, lat in on_causeway)
    assert len(lats) > 20
    assert lats[-1] - lats[0] > 0.008  # the causeway runs about 1.4 km north-south


def test_deterministic_for_a_seed(
    westlake: Scenario, westlake_network: TravelNetwork, units: list[UnitSpec]
) -> None:
    again = westlake_deployment(westlake, np.random.default_rng(1), network=westlake_network)
    other = westlake_deployment(westlake, np.random.default_rng(2), network=westlake_network)
    assert again == units
    assert [(u.lon, u.lat) for u in other] != [(u.lon, u.lat) for u in units]
    assert [u.id for u in other] == [u.id for u in units]  # the same roster, placed afresh


def test_apportion() -> None:
    # 7 left over: shares 1.75, 1.75, 3.5; the two largest remainders (0.75) get the spare two
    assert apportion(10, [1, 1, 2], [1, 1, 1]) == [3, 3, 4]
    assert sum(apportion(1700, [3.3, 1.7, 0.2], [0, 0, 0])) == 1700
    with pytest.raises(ValueError, match="cannot cover the minimums"):
        apportion(2, [1, 1, 1], [1, 1, 1])
