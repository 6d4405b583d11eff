"""Units on patrol and on call: beats, reports, dispatch bounds, progress, return to post."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from lakeguard.forces.deployment import UnitSpec, westlake_deployment
from lakeguard.twin.units import TwinUnit, UnitBusy, UnitModel
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import Mode

BROKEN_BRIDGE = (120.1517, 30.2597)
GUSHAN = (120.1435, 30.2556)
T0 = 10 * 3600.0


@pytest.fixture(scope="module")
def specs(westlake: Scenario, westlake_network: TravelNetwork) -> list[UnitSpec]:
    return westlake_deployment(westlake, np.random.default_rng(1), network=westlake_network)


def twin_unit(spec: UnitSpec) -> TwinUnit:
    return TwinUnit(
        spec.id,
        f"trk-{spec.id}",
        spec.kind.value,
        spec.mode.value,
        spec.home_post,
        spec.lon,
        spec.lat,
    )


def pick(specs: list[UnitSpec], kind: str, post: str | None = "") -> TwinUnit:
    """The first unit of a kind (at a given post; "" any post)."""
    return twin_unit(
        next(s for s in specs if s.kind.value == kind and (post == "" or s.home_post == post))
    )


@pytest.fixture(scope="module")
def roster(specs: list[UnitSpec]) -> dict[str, TwinUnit]:
    return {
        "walker": pick(specs, "officer", "seg-bai-causeway"),
        "stander": pick(specs, "security_guard", "pt-broken-bridge"),
        "boat": pick(specs, "boat", "seg-boat-north"),
        "car": pick(specs, "patrol_car"),
        "drone": pick(specs, "drone"),
        "roamer": pick(specs, "team", None),
    }


@pytest.fixture
def model(
    westlake: Scenario, westlake_network: TravelNetwork, roster: dict[str, TwinUnit]
) -> UnitModel:
    return UnitModel(westlake, westlake_network, list(roster.values()), seed=4)


def on_network(network: TravelNetwork, lonlat: tuple[float, float], mode: Mode) -> float:
    return float(network.snap([lonlat], mode).distance_m[0])


def test_a_walker_is_never_faster_than_free_flow(
    model: UnitModel, roster: dict[str, TwinUnit], westlake_network: TravelNetwork
) -> None:
    walker = roster["walker"].unit_id
    model.advance(T0)
    here = model.position(walker, T0)
    free = float(westlake_network.travel_times([here], [GUSHAN], Mode.WALK)[0, 0])
    on_scene = model.dispatch(walker, 1, T0, *GUSHAN, handling_s=300)
    plan = model.plan(walker)
    assert plan.from_lonlat == pytest.approx(here) and plan.free_flow_s == pytest.approx(free)
    assert 14 <= plan.turnout_s <= 26  # 20 s ± 30 % for an officer
    assert on_scene == model.arrival_s(walker) == pytest.approx(T0 + plan.turnout_s + free)
    assert on_scene - T0 >= free and free > 200  # a few hundred metres along the causeway
    assert model.position(walker, on_scene) == pytest.approx(GUSHAN, abs=1e-6)
    midway = model.position(walker, (T0 + plan.turnout_s + on_scene) / 2)
    assert on_network(westlake_network, midway, Mode.WALK) < 1.0


def test_a_crowd_slows_walkers(
    westlake: Scenario, westlake_network: TravelNetwork, roster: dict[str, TwinUnit]
) -> None:
    walker = roster["walker"].unit_id
    times = []
    for densities in (None, {a.id: 2.0 for a in westlake.areas}):
        model = UnitModel(westlake, westlake_network, [roster["walker"]], seed=4)
        model.dispatch(walker, 1, T0, *GUSHAN, handling_s=300, densities=densities)
        times.append(model.plan(walker))
    free, crowded = times
    assert crowded.turnout_s == free.turnout_s and crowded.free_flow_s == free.free_flow_s
    # Weidmann at 2 persons/m²: 0.61 m/s instead of 1.34 on every path inside an area.
    assert crowded.travel_s > 1.6 * free.travel_s


def test_boats_stay_on_the_water_lanes(
    model: UnitModel, roster: dict[str, TwinUnit], westlake_network: TravelNetwork
) -> None:
    boat = roster["boat"].unit_id
    fixes = [f for f in model.advance(6 * 3600) if f.unit_id == boat]
    assert len(fixes) >= 70  # every 300 s on its beat
    assert all(f.speed_ms == pytest.approx(2.5) for f in fixes)
    assert max(on_network(westlake_network, (f.lon, f.lat), Mode.BOAT) for f in fixes) < 1.0
    assert len({(f.lon, f.lat) for f in fixes}) == len(fixes)  # it moves


def test_progress_comes_in_order_once(model: UnitModel, roster: dict[str, TwinUnit]) -> None:
    walker, car = roster["walker"].unit_id, roster["car"].unit_id
    model.dispatch(walker, 1, T0, *BROKEN_BRIDGE, handling_s=400)
    model.dispatch(car, 2, T0 + 5, *BROKEN_BRIDGE, handling_s=100)
    events = model.due(T0 + 6 * 3600)
    assert [e.t_s for e in events] == sorted(e.t_s for e in events)
    for unit, incident in ((walker, 1), (car, 2)):
        mine = [e for e in events if e.unit_id == unit]
        plan = model.plan(unit)
        assert [e.status for e in mine] == ["acknowledged", "on_scene", "resolved"]
        assert {e.incident_id for e in mine} == {incident}
        assert mine[0].t_s == pytest.approx(plan.dispatched_s + plan.turnout_s)
        assert mine[1].t_s == plan.on_scene_s
    assert model.due(T0 + 7 * 3600) == []


def test_a_busy_unit_is_not_sent_twice(model: UnitModel, roster: dict[str, TwinUnit]) -> None:
    walker = roster["walker"].unit_id
    on_scene = model.dispatch(walker, 1, T0, *BROKEN_BRIDGE, handling_s=600)
    assert model.busy(walker, T0 + 1)
    with pytest.raises(UnitBusy, match="incident 1"):
        model.dispatch(walker, 2, T0 + 60, *GUSHAN, handling_s=60)
    resolved = on_scene + 600
    model.advance(resolved + 1)
    assert not model.busy(walker)
    # Free again on its way back to the post: sent on from where it is.
    here = model.position(walker, resolved + 1)
    model.dispatch(walker, 2, resolved + 1, *GUSHAN, handling_s=60)
    assert model.plan(walker).from_lonlat == pytest.approx(here)
    with pytest.raises(LookupError):
        model.dispatch("nobody", 3, resolved + 1, *GUSHAN, handling_s=60)


def test_units_return_to_their_post_and_resume(
    model: UnitModel, roster: dict[str, TwinUnit], westlake_network: TravelNetwork
) -> None:
    walker, stander = roster["walker"].unit_id, roster["stander"].unit_id
    for unit in (walker, stander):
        model.dispatch(unit, 1, T0, *GUSHAN, handling_s=120)
    home = {u: model.trips[model.index[u]].home_s for u in (walker, stander)}
    anchor = model.trips[model.index[walker]].anchor
    left_from = model.plan(walker).from_lonlat
    back = model.position(walker, home[walker])
    assert back == pytest.approx(left_from, abs=1e-6)  # it rejoins where it left its beat
    model.advance(max(home.values()) + 1)
    assert not model.trips  # both are on their posts again
    # The walker carries on along its beat at patrol pace, the guard stands at its spot.
    later = model.position(walker, home[walker] + 100)
    assert later != pytest.approx(back, abs=1e-5)
    xy = westlake_network.to_xy([later])[0]
    beat = model.beats.of_unit[model.index[walker]]
    line = model.beats.vertices[model.beats.first[beat] : model.beats.stop[beat]]
    assert shapely.LineString(line).distance(shapely.Point(xy)) < 0.5
    assert anchor.arc_m is not None
    stander_unit = roster["stander"]
    assert model.position(stander, home[stander] + 100) == pytest.approx(
        (stander_unit.lon, stander_unit.lat), abs=1e-6
    )


def test_release_sends_the_unit_back_before_it_arrives(
    model: UnitModel, roster: dict[str, TwinUnit]
) -> None:
    walker = roster["walker"].unit_id
    on_scene = model.dispatch(walker, 1, T0, *GUSHAN, handling_s=600)
    model.release(walker, T0 + 120)
    assert not model.busy(walker, T0 + 121)
    assert [e.status for e in model.due(T0 + 86_400)] == ["acknowledged"]
    trip = model.trips[model.index[walker]]
    assert trip.home_s < on_scene + 600
    assert model.position(walker, trip.home_s) == pytest.approx(
        model.plan(walker).from_lonlat, abs=1e-6
    )
    with pytest.raises(ValueError, match="not on an unresolved dispatch"):
        model.release(walker, T0 + 130)


def test_reports_are_staggered_at_their_intervals(
    model: UnitModel, roster: dict[str, TwinUnit]
) -> None:
    fixes = model.advance(2 * 3600)
    by_unit: dict[str, list[float]] = {}
    for fix in fixes:
        by_unit.setdefault(fix.unit_id, []).append(fix.t_s)
    assert [f.t_s for f in fixes] == sorted(f.t_s for f in fixes)
    assert np.diff(by_unit[roster["walker"].unit_id]) == pytest.approx(300)
    assert np.diff(by_unit[roster["stander"].unit_id]) == pytest.approx(1800)
    assert np.diff(by_unit[roster["drone"].unit_id]) == pytest.approx(1800)
    assert len({t[0] for t in by_unit.values()}) == len(by_unit)  # not all at once
    walker = roster["walker"].unit_id
    model.dispatch(walker, 1, 2 * 3600, *GUSHAN, handling_s=300)
    home = model.trips[model.index[walker]].home_s
    during = [f for f in model.advance(home) if f.unit_id == walker]
    assert np.diff([f.t_s for f in during]) == pytest.approx(30)
    assert during[0].t_s == pytest.approx(2 * 3600 + model.plan(walker).turnout_s)
    assert any(f.speed_ms == pytest.approx(1.34, abs=0.01) for f in during)  # on the way out


def test_drones_fly_straight_after_launch(
    model: UnitModel,
    roster: dict[str, TwinUnit],
    westlake: Scenario,
    westlake_network: TravelNetwork,
) -> None:
    drone = roster["drone"].unit_id
    here = model.position(drone, T0)
    on_scene = model.dispatch(drone, 1, T0, *GUSHAN, handling_s=300)
    a, b = westlake_network.to_xy([here, GUSHAN])
    launch = westlake.config.speeds.drone_launch_s
    assert on_scene - T0 == pytest.approx(launch + float(np.hypot(*(b - a))) / 12.0)
    assert model.plan(drone).free_flow_s == pytest.approx(on_scene - T0)


def test_a_car_drives_then_its_crew_walks_off_the_road(
    model: UnitModel, roster: dict[str, TwinUnit], westlake_network: TravelNetwork
) -> None:
    car = roster["car"].unit_id
    hill = (120.1480, 30.2635)  # Baoshi Hill, on the trail above the road
    assert on_network(westlake_network, hill, Mode.VEHICLE) > 25
    on_scene = model.dispatch(car, 1, T0, *hill, handling_s=300)
    plan = model.plan(car)
    assert on_scene - T0 >= plan.free_flow_s and plan.turnout_s >= 45 * 0.7
    route = model.trips[model.index[car]].route
    out = (route.t > T0 + plan.turnout_s) & (route.t <= on_scene)
    steps = np.flatnonzero(out[1:] & (np.diff(route.t) > 0)) + 1
    speeds = np.hypot(*np.diff(route.xy, axis=0).T)[steps - 1] / np.diff(route.t)[steps - 1]
    assert speeds.max() == pytest.approx(8.3, rel=1e-3) and speeds[-1] == pytest.approx(
        1.34, rel=1e-3
    )
    assert model.position(car, on_scene) == pytest.approx(hill, abs=1e-6)


def test_no_dispatch_beats_the_free_flow_bound(
    westlake: Scenario, westlake_network: TravelNetwork, specs: list[UnitSpec]
) -> None:
    units = [twin_unit(s) for s in specs[::40]]
    model = UnitModel(westlake, westlake_network, units, seed=2)
    rng = np.random.default_rng(0)
    scenes = [
        (a.shape.representative_point().x, a.shape.representative_point().y) for a in westlake.areas
    ]
    checked = 0
    for k, unit in enumerate(units):
        t = T0 + 60 * k
        here = model.position(unit.unit_id, t)
        scene = scenes[int(rng.integers(len(scenes)))]
        crowd = {a.id: float(rng.uniform(0, 3)) for a in westlake.areas}
        try:
            on_scene = model.dispatch(unit.unit_id, k, t, *scene, handling_s=60, densities=crowd)
        except ValueError:
            continue  # a walker on an island cannot reach the mainland
        free = float(westlake_network.travel_times([here], [scene], Mode(unit.mode))[0, 0])
        plan = model.plan(unit.unit_id)
        assert plan.free_flow_s == pytest.approx(free)
        assert on_scene - t == pytest.approx(plan.turnout_s + plan.travel_s)
        assert on_scene - t >= free - 1e-9
        checked += 1
    assert checked >= 40


def test_the_same_seed_gives_the_same_day(
    westlake: Scenario, westlake_network: TravelNetwork, specs: list[UnitSpec]
) -> None:
    units = [twin_unit(s) for s in specs[::25]]

    def day(seed: int) -> list[object]:
        model = UnitModel(westlake, westlake_network, units, seed=seed)
        out: list[object] = list(model.advance(T0))
        model.dispatch(units[3].unit_id, 1, T0, *BROKEN_BRIDGE, handling_s=300)
        out += model.advance(T0 + 3600)
        out += model.due(T0 + 3600)
        return out

    first = day(8)
    assert first == day(8) and first != day(9)
