"""Patrol compliance on hand-made tracks along a 400 m segment (metres on the venue's plane)."""

from __future__ import annotations

import numpy as np
import pytest

from lakeguard.patrol.compliance import (
    ComplianceParams,
    Fix,
    PostShape,
    assess,
    on_duty_samples,
    track_at,
)

SEGMENT = PostShape("seg", "segment", ((0.0, 0.0), (400.0, 0.0)))
POINT = PostShape("pt", "point", ((0.0, 0.0),))
HOUR = 3600.0


def walk(xs: list[float], every_s: float, y: float = 0.0, t0: float = 0.0) -> list[Fix]:
    return [Fix(t0 + i * every_s, x, y) for i, x in enumerate(xs)]


def test_a_track_is_interpolated_only_across_short_gaps() -> None:
    fixes = [Fix(0, 0, 0), Fix(100, 100, 0), Fix(2000, 100, 0)]
    xy, known = track_at(fixes, np.array([50.0, 100.0, 500.0, 2000.0]), max_gap_s=900)
    assert known.tolist() == [True, False, False, False]  # nothing is known after a fix
    assert xy[0].tolist() == [50.0, 0.0]


def test_walking_half_the_segment_is_half_walked() -> None:
    # Back and forth over the first 200 m only; the near band (25 m) reaches to 225 m.
    fixes = walk([0, 100, 200, 100, 0, 100, 200], every_s=100)
    found = assess("u", SEGMENT, fixes, windows=[(0, 600)])
    assert found.walked_share == pytest.approx(225 / 400)
    assert found.away_share == 0.0
    assert found.tracked_s == found.on_duty_s == 600


def test_time_beyond_the_away_distance_counts_as_away() -> None:
    # 300 s on the segment, then 300 s 200 m off it (sampled every 30 s).
    fixes = [Fix(0, 0, 0), Fix(299, 0, 0), Fix(300, 0, 200), Fix(600, 0, 200)]
    found = assess("u", SEGMENT, fixes, windows=[(0, 600)])
    assert found.away_share == pytest.approx(0.5)


def test_time_on_a_dispatch_is_left_out() -> None:
    fixes = [Fix(0, 0, 0), Fix(299, 0, 0), Fix(300, 0, 200), Fix(600, 0, 200)]
    found = assess("u", SEGMENT, fixes, windows=[(0, 600)], busy=[(300, 600)])
    assert found.away_share == 0.0 and found.on_duty_s == 300


def test_a_unit_that_never_reported_is_untracked_not_compliant() -> None:
    found = assess("u", SEGMENT, [], windows=[(0, HOUR)])
    assert found.tracked_s == 0 and found.away_share is None and found.walked_share is None


def test_stops_at_hotspot_points_and_the_koper_band() -> None:
    # 12 minutes at the point, 10 minutes away, then 20 minutes at it again.
    fixes = [Fix(0, 0, 0), Fix(720 - 1, 5, 0), Fix(720, 300, 0), Fix(1320 - 1, 300, 0)]
    fixes += [Fix(1320, 0, 5), Fix(2520, 0, 5)]
    found = assess(
        "u", SEGMENT, fixes, windows=[(0, 2520)], hotspot_points={"pt": (0.0, 0.0)},
        params=ComplianceParams(max_gap_s=1500),
    )  # fmt: skip
    durations = [round(s.duration_s) for s in found.stops]
    assert durations == [720, 1200] and found.koper_stops == 1


def test_a_standing_unit_at_its_point_is_there() -> None:
    fixes = [Fix(0, 3, 4), Fix(1800, -3, 2), Fix(3600, 1, 1)]
    found = assess("u", POINT, fixes, windows=[(0, HOUR)], params=ComplianceParams(max_gap_s=1800))
    assert found.away_share == 0.0 and found.walked_share is None


def test_shift_samples_skip_dispatches() -> None:
    times = on_duty_samples([(0, 300), (600, 900)], [(0, 120)], 60)
    assert times.tolist() == [120, 180, 240, 600, 660, 720, 780, 840]
