"""How well occupancy estimates and the alerts made from them follow the truth.

Pure: one value per minute in, sums and figures out. ``bench.estimate`` feeds it the twin's
true occupancy beside what an estimator made of the twin's sensor reports; the definitions
are written out in docs/crowd.md ("Scored against the twin"):

- the truth's level is the platform's own alert rules (tiers, holds and margins) applied to the
  true capacity ratio and the true density;
- a minute is a false alert when the platform's level is above the truth's and the true
  reading no longer holds the platform's level even with the clearing margin; a missed alert
  when the platform's level is below the truth's and the true reading is above the truth
  level's threshold plus the margin;
- shares of false and missed minutes are taken over the minutes the truth is at yellow or
  above, and are ``None`` when there are none.

Sums (``AreaScore``) add over days, so a benchmark pools seeds by adding them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from lakeguard.crowd.alerts import AlertRules, Level, LevelTracker

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Z80 = 1.2815515655446004  # the standard normal's 90 % quantile: a central 80 % interval
BUSY_SHARE = 0.20  # an area-minute at or above this share of capacity counts as busy
MIN_STD = 1.0  # the normalised error divides by at least one person's variance


@dataclass(frozen=True)
class AreaDay:
    """One area over one day, a value per minute: the truth and one estimator's view of it."""

    area_id: str
    capacity: int
    usable_m2: float
    hotspot: bool
    t: FloatArray  # seconds, the time of each minute's reading
    truth: FloatArray  # true occupancy
    mean: FloatArray  # estimated occupancy
    std: FloatArray  # the estimate's standard deviation
    low80: FloatArray  # the estimate's 80 % interval
    high80: FloatArray
    level: IntArray  # the platform's alert level at each minute


@dataclass
class AreaScore:
    """Sums over an area's minutes; ``+`` pools days."""

    area_id: str
    capacity: int
    hotspot: bool
    minutes: int = 0
    truth_peak: float = 0.0  # the highest true occupancy
    abs_error: float = 0.0  # Σ |estimate − truth|
    busy_minutes: int = 0
    busy_abs_error: float = 0.0  # over minutes at or above BUSY_SHARE of capacity
    busy_truth: float = 0.0
    covered80: int = 0  # minutes whose truth lies inside the 80 % interval
    busy_covered80: int = 0  # the same, of the busy minutes
    nis: float = 0.0  # Σ (truth − estimate)² / std²
    truth_alert_minutes: int = 0
    false_alert_minutes: int = 0
    missed_alert_minutes: int = 0
    false_red_minutes: int = 0

    def __add__(self, other: AreaScore) -> AreaScore:
        if (other.area_id, other.capacity) != (self.area_id, self.capacity):
            raise ValueError(f"cannot pool {self.area_id} with {other.area_id}")
        total = AreaScore(self.area_id, self.capacity, self.hotspot)
        for f in fields(self):
            if f.name in ("area_id", "capacity", "hotspot"):
                continue
            a, b = getattr(self, f.name), getattr(other, f.name)
            setattr(total, f.name, max(a, b) if f.name == "truth_peak" else a + b)
        return total

    @property
    def mae_share(self) -> float:
        """Mean absolute error over capacity."""
        return self.abs_error / self.minutes / self.capacity if self.minutes else 0.0


def truth_levels(
    rules: AlertRules, t: FloatArray, ratio: FloatArray, density: FloatArray
) -> IntArray:
    """The level the platform's rules would hold, minute by minute, on the true readings."""
    tracker = LevelTracker(rules)
    levels = np.zeros(len(t), dtype=np.int64)
    for k, (at, r, d) in enumerate(zip(t.tolist(), ratio.tolist(), density.tolist(), strict=True)):
        tracker.update(at, r, d)
        levels[k] = tracker.level
    return levels


def false_alerts(
    rules: AlertRules, level: IntArray, truth: IntArray, ratio: FloatArray, density: FloatArray
) -> BoolArray:
    """Minutes the platform is above the truth's level and the truth is clear of its own."""
    readings = zip(ratio.tolist(), density.tolist(), strict=True)
    held = np.array([rules.level(r, d, margin=True) for r, d in readings], dtype=np.int64)
    return (level > truth) & (held < level)


def missed_alerts(
    rules: AlertRules, level: IntArray, truth: IntArray, ratio: FloatArray, density: FloatArray
) -> BoolArray:
    """Minutes the platform is below the truth's level and the truth is past it by the margin."""
    beyond = np.array(
        [
            rules.level(r - rules.ratio_margin, d - rules.density_margin)
            for r, d in zip(ratio.tolist(), density.tolist(), strict=True)
        ],
        dtype=np.int64,
    )
    return (level < truth) & (beyond >= truth)


def score_area(rules: AlertRules, day: AreaDay) -> AreaScore:
    """The sums for one area-day."""
    ratio = day.truth / day.capacity
    density = day.truth / day.usable_m2
    truth_level = truth_levels(rules, day.t, ratio, density)
    error = np.abs(day.mean - day.truth)
    busy = ratio >= BUSY_SHARE
    var = np.maximum(day.std, MIN_STD) ** 2
    covered = (day.low80 <= day.truth) & (day.truth <= day.high80)
    false = false_alerts(rules, day.level, truth_level, ratio, density)
    missed = missed_alerts(rules, day.level, truth_level, ratio, density)
    return AreaScore(
        area_id=day.area_id,
        capacity=day.capacity,
        hotspot=day.hotspot,
        minutes=len(day.t),
        truth_peak=float(day.truth.max(initial=0.0)),
        abs_error=float(error.sum()),
        busy_minutes=int(busy.sum()),
        busy_abs_error=float(error[busy].sum()),
        busy_truth=float(day.truth[busy].sum()),
        covered80=int(covered.sum()),
        busy_covered80=int(covered[busy].sum()),
        nis=float(((day.truth - day.mean) ** 2 / var).sum()),
        truth_alert_minutes=int((truth_level >= Level.YELLOW).sum()),
        false_alert_minutes=int(false.sum()),
        missed_alert_minutes=int(missed.sum()),
        false_red_minutes=int((false & (day.level == Level.RED)).sum()),
    )


def pool(scores: Iterable[AreaScore]) -> list[AreaScore]:
    """Scores of the same areas over several days, added per area, in first-seen order."""
    pooled: dict[str, AreaScore] = {}
    for score in scores:
        pooled[score.area_id] = pooled[score.area_id] + score if score.area_id in pooled else score
    return list(pooled.values())


def share(minutes: int, truth_alert_minutes: int) -> float | None:
    """Minutes over the truth's alert minutes; None when the truth never alerted."""
    return minutes / truth_alert_minutes if truth_alert_minutes > 0 else None


def figures(scores: Iterable[AreaScore]) -> dict[str, float | int | str | None]:
    """The headline figures of pooled area scores.

    Errors, intervals and the normalised error are over every scored area; alert minutes and
    the worst mean absolute error over hotspots only.
    """
    areas = pool(scores)
    hotspots = [s for s in areas if s.hotspot]
    minutes = sum(s.minutes for s in areas)
    busy_truth = sum(s.busy_truth for s in areas)
    busy_minutes = sum(s.busy_minutes for s in areas)
    worst = max(hotspots, key=lambda s: s.mae_share, default=None)
    truth_alert = sum(s.truth_alert_minutes for s in hotspots)
    false = sum(s.false_alert_minutes for s in hotspots)
    missed = sum(s.missed_alert_minutes for s in hotspots)
    return {
        "area_minutes": minutes,
        "mae_share_max": None if worst is None else round(worst.mae_share, 4),
        "mae_share_max_area": None if worst is None else worst.area_id,
        "wape_busy": round(sum(s.busy_abs_error for s in areas) / busy_truth, 4)
        if busy_truth > 0
        else None,
        "truth_alert_minutes": truth_alert,
        "false_alert_minutes": false,
        "missed_alert_minutes": missed,
        "false_alert_share": _rounded(share(false, truth_alert)),
        "missed_alert_share": _rounded(share(missed, truth_alert)),
        "false_red_minutes": sum(s.false_red_minutes for s in hotspots),
        "interval_coverage_80": round(sum(s.covered80 for s in areas) / minutes, 4)
        if minutes
        else None,
        "interval_coverage_80_busy": round(sum(s.busy_covered80 for s in areas) / busy_minutes, 4)
        if busy_minutes
        else None,
        "nis_mean": round(sum(s.nis for s in areas) / minutes, 3) if minutes else None,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
