"""Occupancy forecasts: a seasonal profile, corrected by how the recent past departs from it.

The model (its reasons and measured accuracy are in docs/forecast.md):

- The profile of time ``t`` is the mean of the values one, two, … ``periods`` seasons before
  it (a season is ``period_s``: a day for live occupancy, a week for hourly counts). People
  keep to the clock, so last week's Tuesday 17:00 says most about this Tuesday 17:00. A
  second, daily profile (the last seven days, any weekday) reacts faster to a new habit.
- The forecast is the mean of two least-squares answers, each fitted per phase of the season
  (per hour of the week for hourly data) and pulled towards a prior in which a departure
  from the profile fades over a few hours:
  - ratios: the profile at the target times ``exp(weights · departures)``, the departures
    being log ratios of the recent past to its profile (the last value; weighted sums over
    the last 1.5 h, 3 h and 20 h; the last hour's change; the target time a day and a season
    earlier; the last value carried on by the profiles' change). It follows a busy or a
    quiet day in proportion, and is fitted with busy times weighing more;
  - levels: a weighted sum of the same recent values and profiles in units of the season's
    mean. It carries a crowd that is there now in persons, as a crowd leaving an event does.
- With less than one season of history there is no profile: the forecast is the last level
  plus a damped linear trend.
- Intervals are order statistics of the model's own errors at the same horizon over the
  recent past (split-conformal ranks), relative to the level, so a busy hour gets a wider
  band in persons.
- A season or more of history is read in 5-minute means: two weeks at 60 s stay cheap.

Values are persons, sampled at a fixed step; NaN marks a missing sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.signal import lfilter

HOUR_S = 3_600
DAY_S = 86_400
# Departures from the profile are read at these time constants: the last hour or two says
# most about the next, the last day whether today is a quiet or a busy one.
RATIO_TIME_CONSTANTS_S = (5_400, 10_800, 72_000)
OFFSET_SHARE = 0.03  # added to values before ratios, as a share of the last season's mean
MIN_OFFSET = 1.0  # persons; keeps ratios and scales of near-empty hours sane
RATIO_SHARE = 0.5  # the forecast is this much the ratio part, the rest the level part
PERSISTENCE_S = 3 * HOUR_S  # prior: a departure from the profile fades with this time constant
RIDGE = 10.0  # weight of the prior, in observations
TREND_WINDOW_S = HOUR_S  # the no-profile fallback fits its line over this much history
TREND_DAMPING_S = HOUR_S  # and lets the slope fade with this time constant
INTERVAL_QUANTILES = (0.1, 0.9)  # an 80 % interval
MIN_RESIDUALS = 8  # fewer past errors than this are no basis for an interval
# A season or more of history is read as means over this step: two weeks at 60 s (20,160
# samples) fitted at full resolution took ~70 ms a call, at 5-minute means ~10 ms, and a
# crowd does not change its course within five minutes.
MODEL_STEP_S = 300


@dataclass(frozen=True)
class Forecast:
    """Expected occupancy ``horizon_s`` seconds after the last sample, with an ~80 % interval."""

    horizon_s: int
    value: float  # expected occupancy (persons), never negative
    low: float  # lower bound of an ~80 % interval
    high: float  # upper bound


@dataclass(frozen=True)
class _Inputs:
    """What both parts of the model read, per time and series, for one horizon."""

    profile_now: np.ndarray  # the profile at each origin
    profile_target: np.ndarray  # the profile at each origin's target time
    days_now: np.ndarray  # the same from the last week of days (any weekday)
    days_target: np.ndarray
    scale: np.ndarray  # mean over the season up to the origin
    offset: np.ndarray  # added before ratios


@dataclass(frozen=True)
class _Design:
    """A series and everything read from it for one horizon, shared by fitting and forecasting."""

    values: np.ndarray  # (time, series)
    inputs: _Inputs
    ratio: np.ndarray  # (time, series, features): departures as log ratios
    level: np.ndarray  # (time, series, features): values and profiles over the scale
    bins: np.ndarray  # (time,): the weight group of each origin


@dataclass(frozen=True)
class SeasonalProfileModel:
    """The profile model for series sampled every ``step_s`` with season ``period_s``.

    Works on one series (a vector) or several aligned ones (columns of a matrix); ``fit``
    pools the columns. Unfitted, it uses the prior weights.
    """

    step_s: int
    period_s: int
    periods: int = 12
    bins: int = 1  # groups of weights across the season (168 = one per hour of a week)
    weights: dict[int, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.step_s <= 0 or self.period_s <= 0 or self.period_s % self.step_s:
            raise ValueError(
                f"period_s {self.period_s} is not a positive multiple of step_s {self.step_s}"
            )
        if not 1 <= self.bins <= self.period:
            raise ValueError(f"bins must be within 1..{self.period}, got {self.bins}")

    @property
    def period(self) -> int:
        return self.period_s // self.step_s

    def forecasts(self, values: np.ndarray, horizon: int) -> np.ndarray:
        """Row ``t``: the forecast of ``values[t + horizon]`` made from ``values[: t + 1]``.

        ``values`` is (time,) or (time, series); NaN where the model has no profile yet.
        """
        design = self._design(values, horizon)
        return self._predict(design, horizon, np.shape(values))

    def fit(self, values: np.ndarray, horizon: int, origins: np.ndarray) -> SeasonalProfileModel:
        """The model with weights for ``horizon`` fitted on the forecasts made at ``origins``.

        ``origins`` is a boolean mask over time; only targets ``values[t + horizon]`` of those
        origins are used, so the caller decides what counts as the past.
        """
        return self._fitted(self._design(values, horizon), horizon, origins)

    def fit_forecasts(
        self, values: np.ndarray, horizon: int, origins: np.ndarray
    ) -> tuple[SeasonalProfileModel, np.ndarray]:
        """``fit`` and then ``forecasts`` with the new weights, reading the series once."""
        design = self._design(values, horizon)
        fitted = self._fitted(design, horizon, origins)
        return fitted, fitted._predict(design, horizon, np.shape(values))

    def _predict(self, design: _Design, horizon: int, shape: tuple[int, ...]) -> np.ndarray:
        inputs = design.inputs
        ratio_w, level_w = self.weights.get(horizon) or self._priors(horizon, design)
        by_ratio = np.exp(_apply(design.ratio, ratio_w[design.bins])) * (
            inputs.profile_target + inputs.offset
        )
        by_level = _apply(design.level, level_w[design.bins]) * inputs.scale
        blended = RATIO_SHARE * (by_ratio - inputs.offset) + (1 - RATIO_SHARE) * by_level
        return np.asarray(np.maximum(blended, 0.0).reshape(shape))

    def _fitted(self, design: _Design, horizon: int, origins: np.ndarray) -> SeasonalProfileModel:
        inputs = design.inputs
        actual = _shift(design.values, -horizon)
        usable = origins[:, None] & np.isfinite(actual) & np.isfinite(inputs.profile_target)
        bins = np.broadcast_to(design.bins[:, None], usable.shape)
        # Busy times weigh more: the crowd that matters is the big one.
        importance = inputs.profile_target + inputs.offset
        ratio_target = _logratio(actual, inputs.profile_target, inputs.offset)
        level_target = actual / inputs.scale
        ratio_prior, level_prior = self._priors(horizon, design)
        ratio_w, level_w = np.empty_like(ratio_prior), np.empty_like(level_prior)
        for b in range(self.bins):
            rows = usable & (bins == b)
            weight = importance[rows] / importance[rows].mean() if rows.any() else None
            ratio_w[b] = _ridge(design.ratio[rows], ratio_target[rows], weight, ratio_prior[b])
            level_w[b] = _ridge(design.level[rows], level_target[rows], None, level_prior[b])
        return replace(self, weights={**self.weights, horizon: (ratio_w, level_w)})

    def _design(self, values: np.ndarray, horizon: int) -> _Design:
        y = _as_matrix(values)
        inputs = self._inputs(y, horizon)
        return _Design(
            values=y,
            inputs=inputs,
            ratio=self._ratio_features(y, inputs, horizon),
            level=self._level_features(y, inputs, horizon),
            bins=self._bins(len(y), horizon),
        )

    def _inputs(self, y: np.ndarray, horizon: int) -> _Inputs:
        if not 1 <= horizon <= self.period:
            raise ValueError(f"horizon of {horizon} steps is outside 1..{self.period} (a season)")
        profile = _profile(y, self.period, self.periods, horizon)
        days = _profile(y, round(DAY_S / self.step_s), 7, horizon)
        scale = _trailing_mean(y, self.period)
        return _Inputs(
            profile_now=profile[: len(y)],
            profile_target=profile[horizon:],
            days_now=days[: len(y)],
            days_target=days[horizon:],
            scale=np.maximum(scale, MIN_OFFSET),
            offset=np.maximum(OFFSET_SHARE * scale, MIN_OFFSET),
        )

    def _ratio_features(self, y: np.ndarray, inputs: _Inputs, horizon: int) -> np.ndarray:
        """Log ratios of the recent past to its profile, known at each origin (NaN read as 0)."""
        now, target, offset = inputs.profile_now, inputs.profile_target, inputs.offset
        known = np.isfinite(y) & np.isfinite(now)
        ratios = [_logratio(y, now, offset)]
        for tau in RATIO_TIME_CONSTANTS_S:
            decay = float(np.exp(-self.step_s / tau))
            mass = lfilter([1.0], [1.0, -decay], known.astype(float), axis=0)
            seen = lfilter([1.0], [1.0, -decay], np.where(known, y, 0.0), axis=0)
            usual = lfilter([1.0], [1.0, -decay], np.where(known, now, 0.0), axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):  # no data yet: 0/0
                ratios.append(np.log((seen + offset * mass) / (usual + offset * mass)))
        hour = max(1, HOUR_S // self.step_s)
        ratios.append(
            _logratio(y, _shift(y, hour), offset) - _logratio(now, _shift(now, hour), offset)
        )
        ratios.append(_logratio(inputs.days_target, target, offset))
        # The last value carried to the target by the profiles' change, as a crowd that stays.
        for then, then_target in ((now, target), (inputs.days_now, inputs.days_target)):
            ratios.append(_logratio(np.maximum(y + then_target - then, 0.0), target, offset))
        for lag in self._lags(horizon):
            then, then_target = _shift(y, lag), _shift(y, lag - horizon)
            ratios.append(_logratio(then_target, target, offset))
            ratios.append(_logratio(then_target, then, offset) - _logratio(target, now, offset))
        return np.asarray(np.nan_to_num(np.stack(ratios, axis=-1), nan=0.0, posinf=0.0, neginf=0.0))

    def _level_features(self, y: np.ndarray, inputs: _Inputs, horizon: int) -> np.ndarray:
        """Recent values and profiles in units of the season's mean; a gap reads as usual."""
        now = _filled(inputs.profile_now, y)
        seen = _filled(y, now)
        target = inputs.profile_target
        hour = max(1, HOUR_S // self.step_s)
        levels = [
            seen,
            _filled(_shift(seen, hour), now),
            _filled(_shift(seen, 2 * hour), now),
            target,
            now,
            _filled(_shift(now, hour), now),
            _filled(inputs.days_target, target),
            _filled(inputs.days_now, now),
        ]
        for lag in self._lags(horizon):
            levels.append(_filled(_shift(seen, lag - horizon), target))
            levels.append(_filled(_shift(seen, lag), now))
        return np.asarray(np.nan_to_num(np.stack(levels, axis=-1) / inputs.scale[..., None]))

    def _lags(self, horizon: int) -> list[int]:
        """A day and a season back: lags at which the target time was already seen."""
        return [lag for lag in sorted({round(DAY_S / self.step_s), self.period}) if lag >= horizon]

    def _priors(self, horizon: int, design: _Design) -> tuple[np.ndarray, np.ndarray]:
        """Weights before any data: the departure from the profile fades with the horizon.

        In ratios, the 1.5 h departure persists; in levels, the last value's excess over its
        profile is carried onto the target's profile.
        """
        fade = float(np.exp(-horizon * self.step_s / PERSISTENCE_S))
        ratio_prior = np.zeros((self.bins, design.ratio.shape[-1] + 1))
        ratio_prior[:, 1] = fade
        level_prior = np.zeros((self.bins, design.level.shape[-1] + 1))
        level_prior[:, [0, 3, 4]] = fade, 1.0, -fade
        return ratio_prior, level_prior

    def _bins(self, length: int, horizon: int) -> np.ndarray:
        """The weight group of each origin: the phase of its target within the season."""
        phase = (np.arange(length) + horizon) % self.period
        return phase * self.bins // self.period


def forecast_series(
    values: Sequence[float] | np.ndarray,
    *,
    step_s: int,
    horizons_s: Sequence[int] = (900, 1800, 3600),
    period_s: int = DAY_S,
    model_step_s: int = MODEL_STEP_S,
) -> list[Forecast]:
    """Forecasts from a regularly sampled series ending now (NaN = missing).

    With a season of history the profile model answers (its weights fitted on the series
    once it holds two seasons), on means over ``model_step_s`` where that step divides the
    season and the horizons; with less, the damped trend does, at ``step_s``. A season of
    whole days (a week) with less than that but a day of history falls back to a day.
    """
    y = np.maximum(np.asarray(values, dtype=float), 0.0)
    horizons_s = list(horizons_s)
    _check(y, step_s, horizons_s, period_s)
    if DAY_S <= len(y) * step_s < period_s and period_s % DAY_S == 0:
        period_s = DAY_S  # a week's profile needs a week: until then, a day's
    if len(y) * step_s >= period_s:
        block = _block(step_s, model_step_s, horizons_s, period_s)
        y, step_s = _block_means(y, block), step_s * block
    horizons = [h // step_s for h in horizons_s]
    model = SeasonalProfileModel(step_s=step_s, period_s=period_s)
    seasonal = len(y) >= model.period
    fitting = len(y) >= 2 * model.period
    offset = max(OFFSET_SHARE * float(np.nanmean(y)), MIN_OFFSET)
    results = []
    for h, horizon_s in zip(horizons, horizons_s, strict=True):
        past: np.ndarray | None = None
        if fitting:
            past = model.fit_forecasts(y, h, np.ones(len(y), dtype=bool))[1]
        elif seasonal:
            past = model.forecasts(y, h)
        if past is None or not np.isfinite(past[-1]):
            # No profile, or none for the target time: too many missing samples.
            past = _trend_forecasts(y, step_s, h)
        # A profile too young to have been tested borrows the trend's record.
        tested = _residual_count(y, past, h, model.period) >= MIN_RESIDUALS
        record = past if tested else _trend_forecasts(y, step_s, h)
        spread = _spread(y, record, h, model.period, offset)
        value = float(past[-1])
        low, high = value + spread[0] * (value + offset), value + spread[1] * (value + offset)
        results.append(Forecast(horizon_s, value, max(float(low), 0.0), float(high)))
    return _widening(results)


def _block(step_s: int, model_step_s: int, horizons_s: Sequence[int], period_s: int) -> int:
    """Samples per model step: 1 where ``model_step_s`` is not a whole number of samples that
    divides the season and every horizon."""
    if model_step_s <= step_s or model_step_s % step_s or period_s % model_step_s:
        return 1
    if any(h % model_step_s for h in horizons_s):
        return 1
    return model_step_s // step_s


def _block_means(y: np.ndarray, block: int) -> np.ndarray:
    """Means of the known samples in consecutive blocks ending with the last sample."""
    if block == 1:
        return y
    whole = y[len(y) % block :].reshape(-1, block)
    known = np.isfinite(whole)
    count = known.sum(axis=1)
    total = np.where(known, whole, 0.0).sum(axis=1)
    return np.asarray(np.divide(total, count, out=np.full(len(whole), np.nan), where=count > 0))


def _check(y: np.ndarray, step_s: int, horizons_s: Sequence[int], period_s: int) -> None:
    """Refuse arguments the model cannot honour, naming them."""
    if step_s <= 0:
        raise ValueError(f"step_s must be positive, got {step_s}")
    if y.ndim != 1 or y.size == 0:
        raise ValueError("values must be a non-empty one-dimensional series")
    if not np.isfinite(y).any():
        raise ValueError("values has no observed sample (all NaN)")
    if period_s <= 0 or period_s % step_s:
        raise ValueError(f"period_s {period_s} is not a positive multiple of step_s {step_s}")
    if not horizons_s:
        raise ValueError("horizons_s is empty")
    for horizon_s in horizons_s:
        if horizon_s <= 0 or horizon_s % step_s:
            raise ValueError(f"horizon {horizon_s} s is not a positive multiple of step_s {step_s}")
        if horizon_s > period_s:
            raise ValueError(f"horizon {horizon_s} s is longer than period_s {period_s}")


def _trend_forecasts(y: np.ndarray, step_s: int, horizon: int) -> np.ndarray:
    """Row ``t``: last level plus damped slope of a line fitted to the hour up to ``t``."""
    window = max(2, min(len(y), TREND_WINDOW_S // step_s))
    known = np.isfinite(y)
    index = np.arange(len(y), dtype=float)
    seen = np.nan_to_num(y)
    count, si, sii, sy, siy = (
        _window_sum(w, window) for w in (known, index * known, index**2 * known, seen, index * seen)
    )
    spread = count * sii - si**2
    slope = np.divide(count * siy - si * sy, spread, out=np.zeros_like(y), where=spread > 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = (sy + slope * (index * count - si)) / count
    last = _last_known(y)
    stale = ~np.isfinite(level)
    level[stale], slope[stale] = last[stale], 0.0
    damping = float(np.exp(-step_s / TREND_DAMPING_S))
    reach = damping * (1 - damping**horizon) / (1 - damping)
    return np.asarray(np.maximum(level + slope * reach, 0.0))


def _spread(
    y: np.ndarray, past: np.ndarray, horizon: int, lookback: int, offset: float
) -> tuple[float, float]:
    """Quantiles of the relative errors of ``past`` forecasts over the last ``lookback`` steps.

    Too few errors to count on: the spread of one-step changes, grown with √horizon.
    """
    actual, predicted = y[horizon:][-lookback:], past[:-horizon][-lookback:]
    ok = np.isfinite(actual) & np.isfinite(predicted)
    if ok.sum() >= MIN_RESIDUALS:
        errors = (actual[ok] - predicted[ok]) / (predicted[ok] + offset)
    else:
        steps = np.diff(y)
        steps = steps[np.isfinite(steps)]
        level = float(np.nanmean(y)) + offset
        errors = steps * np.sqrt(horizon) / level if steps.size else np.zeros(1)
    low_rank, high_rank = interval_ranks(np.array(errors.size))
    ordered = np.sort(errors)
    return min(float(ordered[low_rank]), 0.0), max(float(ordered[high_rank]), 0.0)


def interval_ranks(count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0-based ranks, among ``count`` sorted past errors, of an ~80 % interval's bounds.

    The ⌊(n + 1)·0.1⌋-th and ⌈(n + 1)·0.9⌉-th smallest errors (split conformal): a new error
    exchangeable with the past ones falls between them at least 80 % of the time, where the
    plain 10th and 90th percentiles of n errors hold it only (n − 1)/(n + 1) × 80 % of it.
    """
    n = np.maximum(np.asarray(count), 1)
    low = np.floor((n + 1) * INTERVAL_QUANTILES[0]).astype(int) - 1
    high = np.ceil((n + 1) * INTERVAL_QUANTILES[1]).astype(int) - 1
    return np.clip(low, 0, n - 1), np.clip(high, 0, n - 1)


def _residual_count(y: np.ndarray, past: np.ndarray, horizon: int, lookback: int) -> int:
    ok = np.isfinite(y[horizon:][-lookback:]) & np.isfinite(past[:-horizon][-lookback:])
    return int(ok.sum())


def _widening(forecasts: list[Forecast]) -> list[Forecast]:
    """Intervals that never narrow with the horizon: the future gets no more certain."""
    below = above = 0.0
    widened: dict[int, Forecast] = {}
    for f in sorted(forecasts, key=lambda f: f.horizon_s):
        below, above = max(below, f.value - f.low), max(above, f.high - f.value)
        widened[f.horizon_s] = replace(f, low=max(f.value - below, 0.0), high=f.value + above)
    return [widened[f.horizon_s] for f in forecasts]


def _as_matrix(values: np.ndarray) -> np.ndarray:
    y = np.asarray(values, dtype=float)
    return y[:, None] if y.ndim == 1 else y


def _shift(a: np.ndarray, lag: int) -> np.ndarray:
    """``a`` moved ``lag`` steps later (negative: earlier), NaN where nothing moved in."""
    out = np.full_like(a, np.nan)
    if lag >= 0:
        out[lag:] = a[: len(a) - lag]
    else:
        out[:lag] = a[-lag:]
    return out


def _logratio(a: np.ndarray, b: np.ndarray, offset: np.ndarray) -> np.ndarray:
    return np.asarray(np.log((a + offset) / (b + offset)))


def _profile(y: np.ndarray, period: int, periods: int, horizon: int) -> np.ndarray:
    """Mean of the values 1..``periods`` seasons earlier, for times 0 .. len + horizon - 1."""
    total = np.zeros((len(y) + horizon, y.shape[1]))
    count = np.zeros_like(total)
    known = np.isfinite(y)
    for k in range(1, periods + 1):
        start = k * period
        if start >= len(total):
            break
        end = min(len(total), start + len(y))
        total[start:end] += np.where(known, y, 0.0)[: end - start]
        count[start:end] += known[: end - start]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / count)


def _trailing_mean(y: np.ndarray, window: int) -> np.ndarray:
    """Per time and series: the mean of the known values in the ``window`` rows up to it, or 0."""
    known = np.isfinite(y)
    seen = _window_sum(np.where(known, y, 0.0), window)
    count = _window_sum(known.astype(float), window)
    return np.asarray(np.divide(seen, count, out=np.zeros_like(seen), where=count > 0))


def _filled(a: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    return np.asarray(np.where(np.isfinite(a), a, fallback))


def _apply(features: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``features`` (time, series, k) weighted by one row of ``weights`` (time, k + 1) per time."""
    return np.asarray(np.einsum("tsf,tf->ts", features, weights[:, :-1]) + weights[:, -1:])


def _ridge(
    features: np.ndarray, target: np.ndarray, weight: np.ndarray | None, prior: np.ndarray
) -> np.ndarray:
    """Weighted least squares with an intercept, pulled towards ``prior`` by RIDGE observations."""
    design = np.column_stack([features, np.ones(len(features))])
    weighted = design if weight is None else design * weight[:, None]
    gram = weighted.T @ design + RIDGE * np.eye(len(prior))
    return np.asarray(np.linalg.solve(gram, weighted.T @ target + RIDGE * prior))


def _window_sum(a: np.ndarray, window: int) -> np.ndarray:
    """Sum over the ``window`` rows up to and including each row."""
    a = np.asarray(a, dtype=float)
    csum = np.cumsum(a, axis=0)
    csum[window:] = csum[window:] - csum[:-window]
    return csum


def _last_known(y: np.ndarray) -> np.ndarray:
    """The last observed value at or before each time (NaN before the first)."""
    index = np.where(np.isfinite(y), np.arange(len(y)), -1)
    latest = np.maximum.accumulate(index)
    return np.where(latest >= 0, y[np.maximum(latest, 0)], np.nan)
