from __future__ import annotations

import numpy as np
import pytest

from lakeguard.venue.speed import CREEP_SPEED_MS, weidmann_speed


def test_weidmann_published_points() -> None:
    # Weidmann (1993): 1.06 / 0.61 / 0.33 m/s at 1 / 2 / 3 persons per m².
    assert weidmann_speed([0.0, 1.0, 2.0, 3.0]) == pytest.approx(
        [1.34, 1.06, 0.61, 0.33], abs=0.005
    )


def test_speed_falls_with_density_and_never_stops() -> None:
    speeds = weidmann_speed(np.linspace(0, 8, 81))
    assert np.all(np.diff(speeds) <= 0)
    assert speeds[-1] == CREEP_SPEED_MS
    assert weidmann_speed(0.5, free_speed=1.0) < 1.0
