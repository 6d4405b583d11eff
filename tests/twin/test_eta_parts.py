"""The ETA error split into turnout, position, route and speed, and model, on the tiny park."""

from __future__ import annotations

import pytest

from lakeguard.twin.eta_parts import PARTS, eta_parts, split
from lakeguard.twin.record import Dispatch
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import Mode
from tests.factories import A, B, C, lonlat


def free(net: TravelNetwork, start: tuple[float, float], end: tuple[float, float]) -> float:
    return float(net.travel_times([lonlat(start)], [lonlat(end)], Mode.WALK)[0, 0])


def dispatch(**kw: object) -> Dispatch:
    given: dict[str, object] = {
        "incident_id": 1,
        "unit_id": "u1",
        "t_s": 0.0,
        "eta_s": 100.0,
        "on_scene_s": 0.0,
        "free_flow_s": 0.0,
        "turnout_s": 30.0,
        "travel_s": 250.0,
        "true_from": lonlat(A),
        "believed_from": lonlat(B),
        "scene": lonlat(C),
        "pointed": True,
    }
    given.update(kw)
    return Dispatch(**given)  # type: ignore[arg-type]


def test_the_parts_add_up_to_the_error_and_each_is_what_it_says(
    tiny_network: TravelNetwork,
) -> None:
    parts = split(dispatch(), tiny_network)
    assert parts is not None
    a_to_c, b_to_c = free(tiny_network, A, C), free(tiny_network, B, C)
    assert parts["error"] == pytest.approx(30.0 + 250.0 - 100.0)
    assert parts["turnout"] == pytest.approx(30.0)
    assert parts["position"] == pytest.approx(a_to_c - b_to_c)
    assert parts["route_speed"] == pytest.approx(250.0 - a_to_c)
    assert parts["model"] == pytest.approx(b_to_c - 100.0)
    assert sum(parts[p] for p in PARTS) == pytest.approx(parts["error"])


def test_a_unit_where_the_platform_believed_it_has_no_position_part(
    tiny_network: TravelNetwork,
) -> None:
    parts = split(dispatch(believed_from=lonlat(A)), tiny_network)
    assert parts is not None and parts["position"] == pytest.approx(0.0)


def test_a_drone_launch_counts_in_the_estimate_not_in_turnout(tiny_network: TravelNetwork) -> None:
    launch = float(tiny_network.speeds.drone_launch_s)
    parts = split(dispatch(mode="drone", turnout_s=launch, eta_s=None), tiny_network)
    assert parts is None  # no estimate, nothing to split
    parts = split(dispatch(mode="drone", turnout_s=launch, believed_from=lonlat(A)), tiny_network)
    assert parts is not None and parts["turnout"] == pytest.approx(0.0)


def test_only_arrivals_count_and_known_points_are_apart(tiny_network: TravelNetwork) -> None:
    rows = [
        dispatch(incident_id=1),
        dispatch(incident_id=2, pointed=False),
        dispatch(incident_id=3),  # never arrived
        dispatch(incident_id=4, believed_from=None),  # no position: cannot be split
    ]
    summary = eta_parts(rows, {(1, "u1"), (2, "u1"), (4, "u1")}, tiny_network)
    assert summary["all"]["n"] == 2 and summary["known_point"]["n"] == 1
    assert summary["all"]["abs_error"]["p50_s"] == pytest.approx(180.0)


def test_the_predicted_p90_coverage_counts_arrivals_within_it(tiny_network: TravelNetwork) -> None:
    rows = [
        dispatch(incident_id=1, eta_p90_s=300.0),  # took 280 s: within
        dispatch(incident_id=2, eta_p90_s=250.0),  # beyond
        dispatch(incident_id=3),  # no range given: not counted
    ]
    summary = eta_parts(rows, {(1, "u1"), (2, "u1"), (3, "u1")}, tiny_network)
    assert summary["all"]["p90_coverage"] == 0.5
