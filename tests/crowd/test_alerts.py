"""Alert levels: thresholds, hold times and hysteresis, and the predicted crossing."""

from __future__ import annotations

import pytest

from lakeguard.crowd.alerts import AlertRules, Level, LevelTracker, predicted_crossing, sure_ratio
from lakeguard.crowd.estimator import Estimate

RULES = AlertRules(raise_hold_s=15, clear_hold_s=120)


@pytest.mark.parametrize(
    ("ratio", "density", "level"),
    [
        (0.79, None, Level.NONE),
        (0.80, None, Level.YELLOW),
        (0.90, None, Level.ORANGE),
        (1.00, None, Level.RED),
        (1.70, None, Level.RED),
        (None, 3.9, Level.NONE),
        (None, 4.0, Level.ORANGE),
        (0.5, 5.0, Level.RED),
        (0.85, 4.2, Level.ORANGE),
    ],
)
def test_levels_from_capacity_and_density(
    ratio: float | None, density: float | None, level: Level
) -> None:
    assert RULES.level(ratio, density) == level


def feed(tracker: LevelTracker, readings: list[tuple[float, float]]) -> list[tuple[float, Level]]:
    """(time, ratio) readings in; the (time, new level) changes out."""
    changes = []
    for t, ratio in readings:
        new = tracker.update(t, ratio, None)
        if new is not None:
            changes.append((t, new))
    return changes


def test_a_level_is_raised_only_after_it_holds() -> None:
    tracker = LevelTracker(RULES)
    assert feed(tracker, [(0, 0.92), (10, 0.93)]) == []
    assert feed(tracker, [(15, 0.93)]) == [(15, Level.ORANGE)]


def test_a_single_spike_does_not_raise() -> None:
    tracker = LevelTracker(RULES)
    assert feed(tracker, [(0, 0.5), (5, 0.95), (10, 0.6), (20, 0.6), (40, 0.95), (50, 0.7)]) == []


def test_a_held_rise_goes_to_the_lowest_level_seen_throughout() -> None:
    tracker = LevelTracker(RULES)
    # Red for a moment, orange for the rest of the hold: orange is what held.
    assert feed(tracker, [(0, 1.02), (5, 0.91), (15, 1.05)]) == [(15, Level.ORANGE)]
    assert feed(tracker, [(20, 1.05), (30, 1.05)]) == [(30, Level.RED)]


def test_noise_around_a_threshold_does_not_flap() -> None:
    tracker = LevelTracker(RULES)
    feed(tracker, [(0, 0.91), (15, 0.91)])
    assert tracker.level == Level.ORANGE
    # Wobbling between 0.86 and 0.91 stays within the 5-point margin: orange holds.
    wobble = [(15 + 10 * i, 0.86 if i % 2 else 0.91) for i in range(1, 60)]
    assert feed(tracker, wobble) == []
    assert tracker.level == Level.ORANGE


def test_a_level_clears_below_the_margin_after_the_hold() -> None:
    tracker = LevelTracker(RULES)
    feed(tracker, [(0, 0.95), (15, 0.95)])
    # 0.84 is below orange's 0.85 exit but above yellow's 0.75: down to yellow after 120 s.
    assert feed(tracker, [(100, 0.84), (200, 0.84)]) == []
    assert feed(tracker, [(220, 0.84)]) == [(220, Level.YELLOW)]
    assert feed(tracker, [(300, 0.40), (419, 0.40)]) == []
    assert feed(tracker, [(420, 0.40)]) == [(420, Level.NONE)]


def test_a_rise_during_the_clearing_hold_cancels_it() -> None:
    tracker = LevelTracker(RULES)
    feed(tracker, [(0, 0.95), (15, 0.95)])
    assert feed(tracker, [(30, 0.5), (100, 0.95), (160, 0.5), (200, 0.5)]) == []
    assert tracker.level == Level.ORANGE
    assert feed(tracker, [(280, 0.5)]) == [(280, Level.NONE)]


def test_zero_hold_raises_at_once() -> None:
    tracker = LevelTracker(AlertRules(raise_hold_s=0))
    assert feed(tracker, [(0, 1.0)]) == [(0, Level.RED)]


def test_inconsistent_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="yellow < orange < red"):
        AlertRules(yellow_ratio=0.9, orange_ratio=0.8)


def test_predicted_crossing_interpolates_the_forecast_path() -> None:
    # 900 now, 1200 in 15 minutes, 1500 in 30, capacity 1300: orange (1170) at 810 s,
    # red (1300) at 900 + 900 × 100/300 = 1200 s. The highest level found is reported.
    found = predicted_crossing(
        RULES,
        level=Level.NONE,
        occupancy=900,
        capacity=1300,
        forecasts=[(900, 1200), (1800, 1500), (3600, 2000)],
    )
    assert found is not None
    level, in_s = found
    assert level == Level.RED
    assert in_s == pytest.approx(1200)


def test_no_prediction_when_the_forecast_stays_below_the_next_level() -> None:
    assert (
        predicted_crossing(
            RULES,
            level=Level.YELLOW,
            occupancy=1050,
            capacity=1300,
            forecasts=[(900, 1100), (1800, 1150)],
        )
        is None
    )


def test_a_crossing_beyond_the_lookahead_is_not_predicted() -> None:
    assert (
        predicted_crossing(
            RULES,
            level=Level.NONE,
            occupancy=0,
            capacity=1300,
            forecasts=[(900, 100), (1800, 200), (3600, 2000)],
        )
        is None
    )


def test_orange_and_red_rise_only_when_the_interval_is_past_them() -> None:
    rules = AlertRules(raise_hold_s=0.0)
    # The estimate says 95 %, but the low end of its interval is at 85 %: yellow, not orange.
    assert rules.level(0.95, None, sure_ratio=0.85) == Level.YELLOW
    assert rules.level(0.95, None, sure_ratio=0.91) == Level.ORANGE
    assert rules.level(1.10, None, sure_ratio=0.99) == Level.ORANGE
    assert rules.level(1.10, None, sure_ratio=1.01) == Level.RED
    # Without an interval the estimate decides, as before.
    assert rules.level(0.95, None) == Level.ORANGE
    # A level holds while the interval's low end stays within the margin of it.
    tracker = LevelTracker(rules)
    assert tracker.update(0.0, 0.95, None, 0.92) == Level.ORANGE
    assert tracker.update(10.0, 0.95, None, 0.86) is None  # 0.86 ≥ 0.90 − 0.05: holds
    assert tracker.update(20.0, 0.95, None, 0.84) is None  # below: the clearing hold starts
    assert tracker.update(20.0 + rules.clear_hold_s, 0.95, None, 0.84) == Level.YELLOW


def test_the_sure_ratio_is_the_low_end_of_the_central_interval() -> None:
    estimate = Estimate(
        area_id="a", at=0.0, occupancy=1000.0, std=100.0, low80=871.8, high80=1128.2,
        density=0.5, level_of_service="C", capacity=1000, ratio=1.0, local_density=None,
        anchored=True,
    )  # fmt: skip
    assert sure_ratio(AlertRules(raise_confidence=0.8), estimate) == pytest.approx(0.8718, 1e-3)
    assert sure_ratio(AlertRules(raise_confidence=0.5), estimate) == pytest.approx(0.9326, 1e-3)
    assert sure_ratio(AlertRules(raise_confidence=0.0), estimate) is None
    with pytest.raises(ValueError, match="raise_confidence"):
        AlertRules(raise_confidence=1.0)
