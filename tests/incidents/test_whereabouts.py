"""Where a unit may be now, and the ETA range that follows, on the tiny park (see factories)."""

from __future__ import annotations

import numpy as np
import pytest

from lakeguard.incidents.whereabouts import LastSeen, WhereaboutsParams, eta_range, sample_positions
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import Mode
from tests.factories import C, D, lonlat

NORTH_PATH = (tuple(lonlat(C)), tuple(lonlat(D)))  # 200 m from C (200, 200) to D (0, 200)
MIDDLE = lonlat((100, 200))


def xy(network: TravelNetwork, samples: np.ndarray) -> np.ndarray:
    """Sample positions in the park's own metres (D at (0, 200))."""
    d = network.to_xy([lonlat(D)])[0]
    return np.round(network.to_xy(samples) - d + np.array([0.0, 200.0]), 1)


def seen(**kw: object) -> LastSeen:
    given: dict[str, object] = {
        "lon": MIDDLE[0], "lat": MIDDLE[1], "mode": Mode.WALK, "at_home_post": False,
        "age_s": 30.0, "speed_ms": 1.0, "beat": NORTH_PATH,
    }  # fmt: skip
    given.update(kw)
    return LastSeen(**given)  # type: ignore[arg-type]


def test_a_standing_unit_is_where_it_reported(tiny_network: TravelNetwork) -> None:
    samples = sample_positions(tiny_network, seen(speed_ms=0.0, age_s=600.0))
    assert samples.shape == (1, 2)


def test_a_patroller_may_be_as_far_along_its_beat_as_it_could_walk(
    tiny_network: TravelNetwork,
) -> None:
    params = WhereaboutsParams(samples=5)
    samples = xy(tiny_network, sample_positions(tiny_network, seen(age_s=50.0), params))
    # 50 s at 1 m/s: from x = 50 to x = 150 along the path, plus the reported spot itself.
    assert samples[:, 1] == pytest.approx(200.0, abs=0.5)
    assert sorted(samples[1:, 0].tolist()) == pytest.approx([50, 75, 100, 125, 150], abs=0.5)


def test_an_old_report_spreads_over_the_whole_beat_and_no_further(
    tiny_network: TravelNetwork,
) -> None:
    params = WhereaboutsParams(samples=3)
    samples = xy(tiny_network, sample_positions(tiny_network, seen(age_s=3600.0), params))
    assert sorted(samples[1:, 0].tolist()) == pytest.approx([0, 100, 200], abs=0.5)


def test_a_unit_placed_at_its_home_post_may_be_anywhere_on_it(tiny_network: TravelNetwork) -> None:
    params = WhereaboutsParams(samples=3)
    samples = sample_positions(tiny_network, seen(at_home_post=True, age_s=None), params)
    assert len(samples) == 4


def test_a_roaming_unit_is_on_a_circle_of_what_it_could_reach(tiny_network: TravelNetwork) -> None:
    params = WhereaboutsParams(samples=5, roam_radius_m=40.0)
    samples = xy(tiny_network, sample_positions(tiny_network, seen(beat=(), age_s=100.0), params))
    distance = np.hypot(samples[1:, 0] - 100, samples[1:, 1] - 200)
    assert distance == pytest.approx(40.0, abs=0.5)  # 100 m walkable, capped at 40 m


def test_the_range_adds_turnout_to_the_travel_percentiles() -> None:
    low, high = eta_range([10.0, 20.0, 30.0, 40.0, 50.0, np.inf], (20.0, 40.0))
    assert low == pytest.approx(20.0 + 30.0)
    assert high == pytest.approx(40.0 + 46.0)  # the 90th percentile of 10..50
    assert eta_range([np.inf], (20.0, 40.0)) == (np.inf, np.inf)
