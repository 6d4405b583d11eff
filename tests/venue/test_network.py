"""Travel times on the tiny park, against paths worked out by hand (see tests/factories.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.reach import Fleet, fastest_units
from lakeguard.venue.schema import Mode
from lakeguard.venue.speed import weidmann_speed
from tests.factories import DIAGONAL_M, A, B, C, D, E, F, G, lonlat

WALK, CAR, BOAT = 1.34, 8.3, 5.0


def seconds(net: TravelNetwork, start: tuple[float, float], end: tuple[float, float],
            mode: Mode = Mode.WALK, **kw: object) -> float:  # fmt: skip
    return float(net.travel_times([lonlat(start)], [lonlat(end)], mode, **kw)[0, 0])  # type: ignore[arg-type]


def test_lines_are_cut_into_pieces_no_longer_than_densify(tiny_network: TravelNetwork) -> None:
    assert tiny_network.edge_length.max() <= 25.0 + 1e-6
    # 200 m sides make 8 pieces each; the 141.4 m halves of the diagonal make 6 each.
    assert tiny_network.length_m(Mode.WALK) == pytest.approx(
        800 + DIAGONAL_M + 50 + 50 + math.hypot(50, 50), rel=1e-4
    )


def test_walk_takes_the_diagonal(tiny_network: TravelNetwork) -> None:
    assert seconds(tiny_network, A, C) == pytest.approx(DIAGONAL_M / WALK, rel=1e-4)
    assert seconds(tiny_network, A, E) == pytest.approx(DIAGONAL_M / 2 / WALK, rel=1e-4)


def test_b_to_d_goes_round_two_sides(tiny_network: TravelNetwork) -> None:
    # B-A-D and B-C-D are both 400 m; through E is 200 + 282.8/... longer.
    assert seconds(tiny_network, B, D) == pytest.approx(400 / WALK, rel=1e-4)


def test_vehicle_uses_roads_only_and_walks_the_rest(tiny_network: TravelNetwork) -> None:
    assert seconds(tiny_network, A, C, Mode.VEHICLE) == pytest.approx(400 / CAR, rel=1e-4)
    # (0, 150) is 150 m off the road at A: no driving, the last 150 m on foot.
    assert seconds(tiny_network, A, (0, 150), Mode.VEHICLE) == pytest.approx(150 / WALK, rel=1e-4)
    # From B to (0, 150) the car drives to A, then the officer walks.
    expected = 200 / CAR + 150 / WALK
    assert seconds(tiny_network, B, (0, 150), Mode.VEHICLE) == pytest.approx(expected, rel=1e-4)


def test_boat_and_drone(tiny_network: TravelNetwork) -> None:
    assert seconds(tiny_network, C, F, Mode.BOAT) == pytest.approx(200 / BOAT, rel=1e-4)
    assert seconds(tiny_network, A, C, Mode.DRONE) == pytest.approx(60 + DIAGONAL_M / 12, rel=1e-4)


def test_island_is_not_reachable_on_foot(tiny_network: TravelNetwork) -> None:
    assert math.isinf(seconds(tiny_network, A, G))


def test_a_point_mid_edge_is_timed_along_the_edge(tiny_network: TravelNetwork) -> None:
    # Both on AB, 30 m and 170 m from A: 140 m apart, not via a node.
    assert seconds(tiny_network, (30, 0), (170, 0)) == pytest.approx(140 / WALK, rel=1e-4)
    # 10 m off the path: the walk to it is added.
    assert seconds(tiny_network, (50, -10), (150, 0)) == pytest.approx(110 / WALK, rel=1e-4)


def test_many_to_many_matrix_matches_single_queries(tiny_network: TravelNetwork) -> None:
    points = [A, B, C, D, E, (37, 0), (0, 123)]
    matrix = tiny_network.travel_times(
        [lonlat(p) for p in points], [lonlat(p) for p in points], Mode.WALK
    )
    for i, p in enumerate(points):
        for j, q in enumerate(points):
            assert matrix[i, j] == pytest.approx(seconds(tiny_network, p, q), rel=1e-9)
    assert np.allclose(np.diag(matrix), 0, atol=1e-3)
    assert np.allclose(matrix, matrix.T, rtol=1e-6)


def test_a_crowd_on_the_avenue_sends_walkers_round_the_square(tiny_network: TravelNetwork) -> None:
    light = seconds(tiny_network, A, C, densities={"avenue": 1.0})
    assert light == pytest.approx(DIAGONAL_M / float(weidmann_speed(1.0)[()]), rel=1e-4)
    dense = seconds(tiny_network, A, C, densities={"avenue": 2.0})
    assert dense == pytest.approx(400 / WALK, rel=1e-4)  # the diagonal now takes 466 s
    # Roads are not slowed by walkers' density.
    assert seconds(tiny_network, A, C, Mode.VEHICLE, densities={"avenue": 5.0}) == pytest.approx(
        400 / CAR, rel=1e-4
    )


def test_snapping_reports_the_distance(tiny_network: TravelNetwork) -> None:
    snaps = tiny_network.snap([lonlat((100, -7)), lonlat((-12, 50))], Mode.WALK)
    assert snaps.distance_m == pytest.approx([7.0, 12.0], abs=0.01)
    car = tiny_network.snap([lonlat((-12, 50))], Mode.VEHICLE)
    assert car.distance_m[0] == pytest.approx(math.hypot(12, 50), abs=0.01)


def test_fastest_units_ranks_every_mode(tiny_network: TravelNetwork) -> None:
    fleet = Fleet.place(
        tiny_network,
        ["foot-a", "foot-d", "car-b", "boat-f", "drone-far"],
        [lonlat(A), lonlat(D), lonlat(B), lonlat(F), lonlat((-500, -500))],
        [Mode.WALK, Mode.WALK, Mode.VEHICLE, Mode.BOAT, Mode.DRONE],
    )
    ranked = fastest_units(tiny_network, fleet, tuple(lonlat(E)), k=5)  # type: ignore[arg-type]
    by_id = {r.unit_id: r.seconds for r in ranked}
    assert by_id["foot-a"] == pytest.approx(DIAGONAL_M / 2 / WALK, rel=1e-4)
    # From D: 200 m to A or C then half the diagonal.
    assert by_id["foot-d"] == pytest.approx((200 + DIAGONAL_M / 2) / WALK, rel=1e-4)
    # The car drives to C or A, the nearest road node to E's snap on the road (100 m walk off AB).
    assert by_id["car-b"] == pytest.approx(100 / CAR + 100 / WALK, rel=1e-4)
    drone_dist = math.hypot(600, 600)
    assert by_id["drone-far"] == pytest.approx(60 + drone_dist / 12, rel=1e-4)
    assert [r.unit_id for r in ranked] == sorted(by_id, key=by_id.__getitem__)
    top = fastest_units(tiny_network, fleet, tuple(lonlat(E)), k=2)  # type: ignore[arg-type]
    assert [r.unit_id for r in top] == [r.unit_id for r in ranked[:2]]


def test_fastest_units_under_a_crowd(tiny_network: TravelNetwork) -> None:
    fleet = Fleet.place(tiny_network, ["a", "b"], [lonlat(A), lonlat(B)], [Mode.WALK, Mode.WALK])
    calm = fastest_units(tiny_network, fleet, tuple(lonlat(C)), k=2)  # type: ignore[arg-type]
    crowded = fastest_units(tiny_network, fleet, tuple(lonlat(C)), k=2, densities={"avenue": 3.0})  # type: ignore[arg-type]
    assert calm[0].unit_id == "b"  # 200 m along BC beats the 283 m diagonal
    assert crowded[1].seconds == pytest.approx(400 / WALK, rel=1e-4)


def test_pieces_and_islands(tiny_network: TravelNetwork) -> None:
    walk = tiny_network.pieces(Mode.WALK)
    assert len(walk) == 2
    assert len(tiny_network.pieces(Mode.BOAT)) == 1
    assert len(tiny_network.pieces(Mode.VEHICLE)) == 1


@pytest.mark.parametrize("density", [None, 3.0, 5.0])
def test_fastest_units_equals_timing_every_unit(
    tiny_network: TravelNetwork, density: float | None
) -> None:
    """The bounded search never changes the answer: compare with the full travel-time matrix.

    Without a crowd the fleet's prepared free-flow costs are used; with one, edge costs are
    worked out afresh; both must agree with timing every unit one by one.
    """
    rng = np.random.default_rng(7)
    units = rng.uniform(-20, 220, size=(60, 2))
    modes = [Mode.WALK] * 40 + [Mode.VEHICLE] * 20
    fleet = Fleet.place(
        tiny_network, [f"u{i}" for i in range(60)], [lonlat(p) for p in units], modes
    )
    densities = None if density is None else {"avenue": density}
    for place in rng.uniform(-10, 210, size=(25, 2)):
        target = lonlat(tuple(place))
        ranked = fastest_units(tiny_network, fleet, tuple(target), k=5, densities=densities)  # type: ignore[arg-type]
        walk = tiny_network.travel_times(
            [lonlat(p) for p in units[:40]], [target], Mode.WALK, densities=densities
        )[:, 0]
        car = tiny_network.travel_times([lonlat(p) for p in units[40:]], [target], Mode.VEHICLE)[
            :, 0
        ]
        expected = np.sort(np.concatenate([walk, car]))[:5]
        assert [r.seconds for r in ranked] == pytest.approx(expected, rel=1e-9)


def test_a_bound_that_finds_too_few_units_falls_back_to_a_full_search(
    tiny_network: TravelNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lakeguard.venue.reach as reach

    fleet = Fleet.place(
        tiny_network, ["a", "b", "d"], [lonlat(A), lonlat(B), lonlat(D)], [Mode.WALK] * 3
    )
    honest = fastest_units(tiny_network, fleet, tuple(lonlat(C)), k=3)  # type: ignore[arg-type]
    monkeypatch.setattr(reach, "search_bound", lambda *args: 1.0)
    rescued = fastest_units(tiny_network, fleet, tuple(lonlat(C)), k=3)  # type: ignore[arg-type]
    assert [(r.unit_id, r.seconds) for r in rescued] == [(r.unit_id, r.seconds) for r in honest]
    assert len(rescued) == 3
