"""Scoring estimates against the truth on hand-made minute series."""

from __future__ import annotations

import numpy as np
import pytest

from lakeguard.crowd.alerts import AlertRules, Level
from lakeguard.crowd.scoring import (
    Z80,
    AreaDay,
    AreaScore,
    false_alerts,
    figures,
    missed_alerts,
    pool,
    score_area,
    share,
    truth_levels,
)

RULES = AlertRules()  # yellow 0.8, orange 0.9, red 1.0, margin 0.05; holds 15 s up, 120 s down
NONE, YELLOW, ORANGE, RED = Level.NONE, Level.YELLOW, Level.ORANGE, Level.RED


def minutes(n: int) -> np.ndarray:
    return np.arange(n, dtype=float) * 60.0


def arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)


def levels(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_truth_level_holds_before_raising_and_clears_below_the_margin() -> None:
    ratio = arr(0.5, 0.85, 0.85, 0.77, 0.70, 0.70, 0.70, 0.70)
    got = truth_levels(RULES, minutes(8), ratio, np.zeros(8))
    # Raised once 0.85 has held 15 s; 0.77 still holds yellow (above 0.80 − 0.05); 0.70
    # clears after standing below the margin for 120 s.
    assert got.tolist() == [NONE, NONE, YELLOW, YELLOW, YELLOW, YELLOW, NONE, NONE]


def test_truth_level_is_raised_by_the_true_density() -> None:
    got = truth_levels(RULES, minutes(3), arr(0.3, 0.3, 0.3), arr(1.0, 4.2, 4.2))
    assert got.tolist() == [NONE, NONE, ORANGE]


@pytest.mark.parametrize(
    ("platform", "truth", "ratio", "density", "false"),
    [
        (YELLOW, NONE, 0.70, 0.0, True),  # below yellow's 0.80 minus the margin
        (YELLOW, NONE, 0.77, 0.0, False),  # inside the margin: the truth could still hold yellow
        (RED, YELLOW, 0.82, 0.0, True),
        (RED, ORANGE, 0.96, 0.0, False),  # red held down to 0.95
        (ORANGE, NONE, 0.30, 3.7, False),  # the true density holds orange (4.0 minus 0.5)
        (ORANGE, NONE, 0.30, 3.2, True),
        (YELLOW, YELLOW, 0.50, 0.0, False),  # the same level as the truth is never false
    ],
)
def test_false_alert_minute(
    platform: int, truth: int, ratio: float, density: float, false: bool
) -> None:
    got = false_alerts(RULES, levels(platform), levels(truth), arr(ratio), arr(density))
    assert got.tolist() == [false]


@pytest.mark.parametrize(
    ("platform", "truth", "ratio", "density", "missed"),
    [
        (NONE, YELLOW, 0.86, 0.0, True),  # past yellow's 0.80 plus the margin
        (NONE, YELLOW, 0.83, 0.0, False),  # inside the margin
        (YELLOW, RED, 1.06, 0.0, True),
        (YELLOW, RED, 1.03, 0.0, False),
        (NONE, ORANGE, 0.20, 4.6, True),  # past the density warning plus its margin
        (NONE, ORANGE, 0.20, 4.3, False),
        (RED, RED, 1.50, 0.0, False),
    ],
)
def test_missed_alert_minute(
    platform: int, truth: int, ratio: float, density: float, missed: bool
) -> None:
    got = missed_alerts(RULES, levels(platform), levels(truth), arr(ratio), arr(density))
    assert got.tolist() == [missed]


def area_day(truth: np.ndarray, mean: np.ndarray, std: np.ndarray, level: np.ndarray) -> AreaDay:
    return AreaDay(
        area_id="bridge", capacity=100, usable_m2=500.0, hotspot=True, t=minutes(len(truth)),
        truth=truth, mean=mean, std=std, low80=np.maximum(mean - Z80 * std, 0),
        high80=mean + Z80 * std, level=level,
    )  # fmt: skip


def test_score_area_sums_errors_intervals_and_alert_minutes() -> None:
    truth = arr(10, 85, 90, 90, 60)
    mean = arr(10, 80, 100, 110, 60)
    std = arr(0.5, 10, 5, 5, 2)
    # The truth goes yellow at the third minute and orange at the fourth, and holds orange
    # through the last (0.60 has not stood below for 120 s); the platform goes red.
    platform = levels(NONE, NONE, RED, RED, RED)
    score = score_area(RULES, area_day(truth, mean, std, platform))
    assert score.minutes == 5
    assert score.abs_error == pytest.approx(0 + 5 + 10 + 20 + 0)
    assert score.mae_share == pytest.approx(35 / 5 / 100)
    assert (score.busy_minutes, score.busy_truth) == (4, 85 + 90 + 90 + 60)
    assert score.busy_abs_error == pytest.approx(35)
    # Inside mean ± 1.28 std: minutes 0, 1 (85 in 80 ± 12.8) and 4; not 90 in 100 ± 6.4.
    assert score.covered80 == 3
    assert score.busy_covered80 == 2
    # std below one person counts as one.
    assert score.nis == pytest.approx(0 + 25 / 100 + 100 / 25 + 400 / 25 + 0)
    assert score.truth_alert_minutes == 3
    # Minutes 2 and 3: red while the truth (0.90) is below red's 1.00 minus 0.05; minute 4:
    # red while 0.60 is far below.
    assert score.false_alert_minutes == 3
    assert score.false_red_minutes == 3
    assert score.missed_alert_minutes == 0


def test_figures_give_null_shares_and_raw_minutes_when_the_truth_never_alerts() -> None:
    quiet = area_day(arr(10, 70, 70), arr(10, 70, 95), arr(1, 1, 1), levels(NONE, NONE, YELLOW))
    figs = figures([score_area(RULES, quiet)])
    assert figs["truth_alert_minutes"] == 0
    assert figs["false_alert_minutes"] == 1
    assert figs["false_alert_share"] is None
    assert figs["missed_alert_share"] is None
    assert share(3, 0) is None
    assert share(3, 60) == pytest.approx(0.05)


def test_figures_pool_days_and_judge_alerts_on_hotspots_only() -> None:
    busy = score_area(
        RULES, area_day(arr(85, 90, 90), arr(85, 90, 90), arr(1, 1, 1), levels(NONE, NONE, NONE))
    )
    other = AreaScore("lawn", 50, hotspot=False, minutes=3, abs_error=30.0, false_alert_minutes=3)
    figs = figures([busy, busy, other])
    assert figs["area_minutes"] == 9
    # Each day the truth is yellow at 0.90 (85 % held 15 s), then orange.
    assert figs["truth_alert_minutes"] == 4
    # Yellow missed: 0.90 is past 0.80 + 0.05. Orange is not missed at 0.90, below 0.95.
    assert figs["missed_alert_minutes"] == 2
    assert figs["missed_alert_share"] == pytest.approx(0.5)
    assert figs["false_alert_minutes"] == 0  # the lawn is no hotspot
    assert figs["mae_share_max"] == pytest.approx(0.0)
    assert figs["mae_share_max_area"] == "bridge"
    assert figs["interval_coverage_80"] == pytest.approx(
        6 / 9, abs=1e-4
    )  # the lawn covered nothing
    assert figs["interval_coverage_80_busy"] == pytest.approx(1.0)  # the lawn is never busy


def test_pool_adds_days_of_an_area_and_refuses_to_mix_areas() -> None:
    a = AreaScore("bridge", 100, hotspot=True, minutes=2, truth_peak=50.0, abs_error=4.0)
    b = AreaScore("bridge", 100, hotspot=True, minutes=3, truth_peak=80.0, abs_error=6.0)
    (total,) = pool([a, b])
    assert (total.minutes, total.truth_peak, total.abs_error) == (5, 80.0, 10.0)
    with pytest.raises(ValueError, match="cannot pool"):
        a + AreaScore("gushan", 100, hotspot=True)
