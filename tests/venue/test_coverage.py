"""Isochrone shares on the tiny park, worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from lakeguard.venue.coverage import hotspot_coverage, post_origins
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.reach import coverage_within, reachable_nodes
from lakeguard.venue.schema import Mode
from tests.factories import AVENUE_LENGTH_M, A, lonlat

WALK = 1.34


def avenue_share_from_a(seconds: float) -> float:
    """Share of the avenue strip reached from A, by hand.

    A sample at distance s along the diagonal and o to its side is reached in (s + |o|) / 1.34
    seconds; averaged over the strip's 10 m width that is s ≤ reach − 2.5 m, plus the 2 m of
    strip behind A.
    """
    reach = WALK * seconds
    return (reach - 2.5 + 2.0) / AVENUE_LENGTH_M


@pytest.mark.parametrize("seconds", [30.0, 60.0, 120.0])
def test_share_of_the_avenue_reached_from_corner_a(
    tiny: Scenario, tiny_network: TravelNetwork, seconds: float
) -> None:
    avenue = next(a for a in tiny.areas if a.id == "avenue")
    [found] = coverage_within(tiny_network, [lonlat(A)], seconds, {"avenue": avenue.shape})
    assert found.share == pytest.approx(avenue_share_from_a(seconds), abs=0.02)
    assert found.samples > 300


def test_nothing_is_reached_in_no_time_and_all_in_long(
    tiny: Scenario, tiny_network: TravelNetwork
) -> None:
    avenue = next(a for a in tiny.areas if a.id == "avenue")
    [none] = coverage_within(tiny_network, [lonlat((-50, -50))], 1.0, {"avenue": avenue.shape})
    [all_] = coverage_within(tiny_network, [lonlat(A)], 600.0, {"avenue": avenue.shape})
    assert none.share == 0.0
    assert all_.share == 1.0


def test_a_crowd_shrinks_the_circle(tiny: Scenario, tiny_network: TravelNetwork) -> None:
    avenue = next(a for a in tiny.areas if a.id == "avenue")
    [calm] = coverage_within(tiny_network, [lonlat(A)], 60, {"avenue": avenue.shape})
    [crowd] = coverage_within(
        tiny_network, [lonlat(A)], 60, {"avenue": avenue.shape}, densities={"avenue": 2.0}
    )
    assert crowd.share < calm.share * 0.6


def test_reachable_nodes_form_the_isochrone(tiny_network: TravelNetwork) -> None:
    mask = reachable_nodes(tiny_network, [lonlat(A)], 60)
    dist = np.hypot(*(tiny_network.node_xy - tiny_network.to_xy([lonlat(A)])[0]).T)
    walk = tiny_network.mode_nodes(Mode.WALK)
    # On the straight sides from A, network distance is straight distance.
    assert mask[walk & (dist <= 60 * WALK - 0.5)].all()
    assert not mask[dist > 60 * WALK + 0.5].any()


def test_hotspot_coverage_uses_the_posts(tiny: Scenario, tiny_network: TravelNetwork) -> None:
    origins = post_origins(tiny, tiny_network, Mode.WALK)
    # pt-a, and seg-north sampled every 25 m from C to D (9 points).
    assert len(origins) == 1 + 9
    found = {c.area_id: c for c in hotspot_coverage(tiny, tiny_network, 60)}
    assert set(found) == {"avenue"}
    # From A and from C (an end of seg-north) the strip is reached from both ends.
    assert found["avenue"].share == pytest.approx(2 * avenue_share_from_a(60), abs=0.03)
    assert found["avenue"].capacity == 560
    boats = hotspot_coverage(tiny, tiny_network, 60, mode=Mode.BOAT)
    assert boats[0].share < found["avenue"].share
