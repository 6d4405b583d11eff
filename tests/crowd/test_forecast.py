"""Occupancy forecasts on hand-made series, and the benchmark's scoring and row ordering."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bench.forecast import clock_slots, hourly_grid, label_slots, peak_mask, targets_met, wape

from lakeguard.crowd.forecast import (
    TREND_DAMPING_S,
    SeasonalProfileModel,
    forecast_series,
    interval_ranks,
)

HOUR, DAY = 3600, 86_400


def daily_wave(days: int, step_s: int = HOUR) -> np.ndarray:
    """A clean daily cycle between 20 and 180 persons."""
    t = np.arange(days * DAY // step_s) * step_s
    return 100 + 80 * np.sin(2 * np.pi * t / DAY)


def wave_at(t_s: float) -> float:
    return 100 + 80 * math.sin(2 * math.pi * t_s / DAY)


@pytest.mark.parametrize(("length", "step_s"), [(120, 60), (2 * 288, 300)])
def test_flat_series_forecasts_flat_with_a_zero_width_interval(length: int, step_s: int) -> None:
    # 120 one-minute samples is the trend fallback; two days at 300 s fits the seasonal model.
    forecasts = forecast_series([50.0] * length, step_s=step_s)
    assert [f.horizon_s for f in forecasts] == [900, 1800, 3600]
    for f in forecasts:
        assert f.value == pytest.approx(50.0)
        assert f.low == pytest.approx(50.0) and f.high == pytest.approx(50.0)


def test_short_ramp_is_extrapolated_with_a_damped_slope() -> None:
    values = 10 + 0.5 * np.arange(30)  # half an hour at 60 s: less than a season
    forecasts = forecast_series(values, step_s=60)
    damping = math.exp(-60 / TREND_DAMPING_S)
    for f in forecasts:
        steps = f.horizon_s // 60
        reach = damping * (1 - damping**steps) / (1 - damping)
        assert f.value == pytest.approx(values[-1] + 0.5 * reach)
        assert values[-1] < f.value < values[-1] + 0.5 * steps  # rises, but less than the line


def test_daily_cycle_is_forecast_from_its_profile() -> None:
    values = daily_wave(days=5)
    forecasts = forecast_series(values, step_s=HOUR, horizons_s=(HOUR, 3 * HOUR, 6 * HOUR))
    now = (len(values) - 1) * HOUR
    for f in forecasts:
        assert f.value == pytest.approx(wave_at(now + f.horizon_s), rel=1e-6)
        assert f.high - f.low == pytest.approx(0.0, abs=1e-6)


def test_one_day_of_history_already_uses_the_profile() -> None:
    values = daily_wave(days=1)
    forecasts = forecast_series(values, step_s=HOUR, horizons_s=(HOUR, 2 * HOUR))
    # The trend fallback would carry on the last hours' fall; the profile knows the turn.
    assert [f.value for f in forecasts] == pytest.approx([values[0], values[1]])


def weekly_wave(days: int, step_s: int = 60) -> np.ndarray:
    """The daily wave, 60 % busier on the first day of each week (a Saturday)."""
    t = np.arange(days * DAY // step_s) * step_s
    return daily_wave(days, step_s) * np.where((t // DAY) % 7 == 0, 1.6, 1.0)


def test_two_weeks_at_60_s_forecast_the_weekly_profile() -> None:
    values = weekly_wave(days=14)  # ends on a Friday night; Saturday is busier
    weekly = forecast_series(values, step_s=60, period_s=7 * DAY)
    daily = forecast_series(values, step_s=60, period_s=DAY)
    for w, d in zip(weekly, daily, strict=True):
        # The targets fall on Saturday just after midnight, in the last of the 5-min means.
        saturday = 1.6 * wave_at(14 * DAY + w.horizon_s - 300)
        assert w.value == pytest.approx(saturday, rel=0.02)
        assert abs(d.value - saturday) > 0.2 * saturday  # a daily profile expects a Friday


def test_a_weekly_season_uses_the_daily_profile_until_it_has_a_week() -> None:
    values = daily_wave(days=3)
    forecasts = forecast_series(values, step_s=HOUR, horizons_s=(HOUR, 3 * HOUR), period_s=7 * DAY)
    now = (len(values) - 1) * HOUR
    for f in forecasts:  # the damped trend would carry on the last hours' slope instead
        assert f.value == pytest.approx(wave_at(now + f.horizon_s), rel=1e-6)


def test_a_long_history_is_forecast_from_its_5_minute_means() -> None:
    values = daily_wave(days=3, step_s=60)
    coarse = forecast_series(values, step_s=60)
    fine = forecast_series(values, step_s=60, model_step_s=60)
    now = (len(values) - 1) * 60
    for c, f in zip(coarse, fine, strict=True):
        assert f.value == pytest.approx(wave_at(now + f.horizon_s), rel=1e-3)
        # The 5-min mean ending now stands 2 min back, so its forecast does too.
        assert c.value == pytest.approx(wave_at(now - 120 + c.horizon_s), rel=1e-3)
        assert c.value != pytest.approx(f.value, rel=1e-4)


def test_profile_scales_with_a_busier_day() -> None:
    values = daily_wave(days=4)
    values[-6:] *= 1.5  # the last six hours half as busy again as usual
    (f,) = forecast_series(values, step_s=HOUR, horizons_s=(HOUR,))
    usual = wave_at(len(values) * HOUR)
    assert usual < f.value < 1.5 * usual


def test_missing_samples_are_tolerated() -> None:
    values = daily_wave(days=3, step_s=300)
    values[::7] = np.nan
    values[-1] = np.nan  # the latest sample is missing too
    now = (len(values) - 1) * 300
    for f in forecast_series(values, step_s=300):
        assert math.isfinite(f.value) and math.isfinite(f.low) and math.isfinite(f.high)
        assert f.value == pytest.approx(wave_at(now + f.horizon_s), rel=0.02)


def test_forecasts_and_bounds_are_never_negative() -> None:
    falling = np.maximum(200 - 8.0 * np.arange(40), 0.0)  # emptying fast, then empty
    falling[-3] = -5.0  # a sensor glitch below zero
    for f in forecast_series(falling, step_s=60):
        assert f.value >= 0 and f.low >= 0 and f.high >= f.value


def test_intervals_widen_with_the_horizon() -> None:
    rng = np.random.default_rng(7)
    values = daily_wave(days=3, step_s=300) * rng.lognormal(0.0, 0.1, 3 * 288)
    forecasts = forecast_series(values, step_s=300, horizons_s=(900, 1800, 3600))
    widths = [f.high - f.low for f in forecasts]
    assert all(f.low <= f.value <= f.high for f in forecasts)
    assert widths[0] > 0
    assert widths == sorted(widths)


@pytest.mark.parametrize(
    ("count", "ranks"),
    [(1, (0, 0)), (9, (0, 8)), (19, (1, 17)), (168, (15, 152)), (2016, (200, 1815))],
)
def test_interval_bounds_are_the_split_conformal_order_statistics(
    count: int, ranks: tuple[int, int]
) -> None:
    # A tenth error exchangeable with nine falls between their smallest and largest 80 % of
    # the time; between the second and the eighth only 60 %.
    low, high = interval_ranks(np.array(count))
    assert (int(low), int(high)) == ranks


@pytest.mark.parametrize(
    ("values", "kwargs", "problem"),
    [
        ([1.0, 2.0], {"step_s": 0}, "step_s must be positive"),
        ([1.0, 2.0], {"step_s": -60}, "step_s must be positive"),
        ([1.0, 2.0], {"step_s": 60, "horizons_s": (1000,)}, "not a positive multiple of step_s"),
        ([1.0, 2.0], {"step_s": 60, "horizons_s": (0,)}, "not a positive multiple of step_s"),
        ([], {"step_s": 60}, "non-empty"),
        ([math.nan, math.nan], {"step_s": 60}, "no observed sample"),
        (
            [1.0, 2.0],
            {"step_s": 60, "horizons_s": (7200,), "period_s": 3600},
            "longer than period_s",
        ),
        ([1.0, 2.0], {"step_s": 60, "period_s": 90}, "period_s 90"),
    ],
)
def test_bad_arguments_are_refused_by_name(values: list[float], kwargs: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        forecast_series(values, **kwargs)


def test_model_forecasts_use_only_the_past() -> None:
    rng = np.random.default_rng(3)
    values = daily_wave(days=6) * rng.lognormal(0.0, 0.2, 6 * 24)
    model = SeasonalProfileModel(step_s=HOUR, period_s=DAY, periods=3, bins=4)
    model = model.fit(values, 2, np.arange(len(values)) < 100)
    before = model.forecasts(values, 2)
    changed = values.copy()
    changed[101:] *= 3  # rewrite everything after hour 100
    after = model.forecasts(changed, 2)
    assert np.array_equal(before[:101], after[:101], equal_nan=True)
    assert not np.allclose(before[101:-2], after[101:-2])


def test_fit_forecasts_is_fit_then_forecasts() -> None:
    rng = np.random.default_rng(5)
    values = daily_wave(days=4) * rng.lognormal(0.0, 0.2, 4 * 24)
    model = SeasonalProfileModel(step_s=HOUR, period_s=DAY, periods=2)
    origins = np.arange(len(values)) < 80
    fitted, forecasts = model.fit_forecasts(values, 3, origins)
    assert list(fitted.weights) == [3]
    assert np.array_equal(forecasts, fitted.forecasts(values, 3), equal_nan=True)
    assert not np.allclose(forecasts[48:-3], model.forecasts(values, 3)[48:-3])  # weights moved


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"step_s": 60, "period_s": 90}, "not a positive multiple of step_s"),
        ({"step_s": HOUR, "period_s": DAY, "bins": 25}, "bins must be within 1..24"),
    ],
)
def test_model_refuses_a_season_it_cannot_split(kwargs: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SeasonalProfileModel(**kwargs)


def test_wape_is_absolute_error_over_absolute_actuals() -> None:
    actual = np.array([10.0, 20.0, 0.0])
    forecast = np.array([12.0, 15.0, 5.0])
    assert wape(actual, forecast, np.array([True, True, True])) == pytest.approx(12 / 30)
    assert wape(actual, forecast, np.array([True, True, False])) == pytest.approx(7 / 30)


def test_peak_hours_are_each_sensors_top_decile() -> None:
    actual = np.column_stack([np.arange(20.0), 100 + np.arange(20.0)])
    scored = np.ones_like(actual, dtype=bool)
    scored[19, 0] = False  # an unscored pair takes no part in the threshold
    peak = peak_mask(actual, scored)
    assert np.flatnonzero(peak[:, 0]).tolist() == [17, 18]
    assert np.flatnonzero(peak[:, 1]).tolist() == [18, 19]


@pytest.mark.parametrize(
    ("figures", "met"),
    [
        (
            {"wape": 0.11, "wape_peak": 0.095, "mstl_wape_peak": 0.1, "interval_coverage_80": 0.8},
            True,
        ),
        (
            {"wape": 0.111, "wape_peak": 0.09, "mstl_wape_peak": 0.1, "interval_coverage_80": 0.8},
            False,
        ),
        (
            {"wape": 0.1, "wape_peak": 0.096, "mstl_wape_peak": 0.1, "interval_coverage_80": 0.8},
            False,
        ),
        (
            {"wape": 0.1, "wape_peak": 0.09, "mstl_wape_peak": 0.1, "interval_coverage_80": 0.77},
            False,
        ),
        (
            {"wape": 0.1, "wape_peak": 0.09, "mstl_wape_peak": 0.1, "interval_coverage_80": 0.83},
            False,
        ),
        (
            {"wape": 0.1, "wape_peak": 0.09, "mstl_wape_peak": None, "interval_coverage_80": 0.8},
            None,
        ),
    ],
)
def test_targets_need_all_three_figures_and_mstl(figures: dict, met: bool | None) -> None:
    assert targets_met(figures) is met


def as_times(slots: np.ndarray) -> list[str]:
    return [str(np.datetime64(int(s), "h")) for s in slots]


def test_rows_follow_the_six_to_six_day_and_the_spring_forward_gap() -> None:
    # As in the source around 29 September 2024: 02:00 does not exist, and the 06:00 row
    # after the gap still carries the previous day's label.
    dates = ["2024-09-28"] * 8 + ["2024-09-29"]
    hours = ["22:00-22:59", "23:00-23:59", "0:00-0:59", "1:00-1:59", "3:00-3:59",
             "4:00-4:59", "5:00-5:59", "6:00-6:59", "7:00-7:59"]  # fmt: skip
    slots = clock_slots(dates, hours)
    assert as_times(slots) == [
        "2024-09-28T22", "2024-09-28T23", "2024-09-29T00", "2024-09-29T01", "2024-09-29T03",
        "2024-09-29T04", "2024-09-29T05", "2024-09-29T06", "2024-09-29T07",
    ]  # fmt: skip
    assert np.flatnonzero(label_slots(dates, hours) != slots).tolist() == [7]


def test_hours_before_six_belong_to_the_next_calendar_day() -> None:
    slots = clock_slots(["2024-01-01", "2024-01-01"], ["5:00-5:59", "6:00-6:59"])
    assert as_times(slots) == ["2024-01-02T05", "2024-01-02T06"]


def test_grid_leaves_a_skipped_hour_empty_and_averages_a_repeated_one() -> None:
    dates = ["2024-04-06"] * 6
    hours = ["0:00-0:59", "1:00-1:59", "2:00-2:59", "2:00-2:59", "4:00-4:59", "5:00-5:59"]
    counts = np.array([[10.0], [20.0], [30.0], [50.0], [60.0], [np.nan]])
    first, grid = hourly_grid(clock_slots(dates, hours), counts)
    assert as_times(np.array([first])) == ["2024-04-07T00"]
    assert grid[:, 0].tolist()[:3] == [10.0, 20.0, 40.0]
    assert np.isnan(grid[3, 0]) and grid[4, 0] == 60.0 and np.isnan(grid[5, 0])
