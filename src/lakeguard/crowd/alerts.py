"""Alert levels from occupancy: thresholds, hysteresis and hold times, so counts do not flap.

Levels follow the common Chinese scenic-area practice on the capacity ratio (yellow 80 %,
orange 90 %, red 100 %) and the crowd-safety density scale (warning 4 persons/m² counts as
orange, critical 5 as red). A level is raised only after the reading has stood at or above its
threshold for ``raise_hold_s``, and lowered only after it has stood below the threshold minus a
margin for ``clear_hold_s``. Times are those of the observations, not of the wall clock, so a
replayed day raises the same alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from itertools import pairwise
from statistics import NormalDist
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakeguard.crowd.estimator import Estimate
    from lakeguard.venue.plans import CrowdAlertRules


class Level(IntEnum):
    NONE = 0
    YELLOW = 1
    ORANGE = 2
    RED = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Level:
        try:
            return cls[text.upper()]
        except KeyError:
            known = ", ".join(level.label for level in cls)
            raise ValueError(f"unknown alert level {text!r}; known: {known}") from None


@dataclass(frozen=True)
class AlertRules:
    """Thresholds and damping; every field can be set in the scenario's ``[crowd_alerts]`` table."""

    yellow_ratio: float = 0.80
    orange_ratio: float = 0.90
    red_ratio: float = 1.00
    density_warning: float = 4.0  # persons/m², counts as orange
    density_critical: float = 5.0  # persons/m², counts as red
    ratio_margin: float = 0.05  # a level clears below its threshold minus this
    density_margin: float = 0.5
    raise_hold_s: float = 15.0
    clear_hold_s: float = 120.0
    # Orange and red are raised, and held, only while the low end of the estimate's central
    # interval of this probability is past their threshold (less the margin, to hold);
    # 0 judges on the estimate alone. Yellow goes by the estimate.
    raise_confidence: float = 0.7

    def __post_init__(self) -> None:
        if not 0 < self.yellow_ratio < self.orange_ratio < self.red_ratio:
            raise ValueError("alert ratios must rise: 0 < yellow < orange < red")
        if not 0 < self.density_warning < self.density_critical:
            raise ValueError("density thresholds must rise: 0 < warning < critical")
        if not 0 <= self.raise_confidence < 1:
            raise ValueError("raise_confidence must be in [0, 1)")
        if self.raise_hold_s < 0 or self.clear_hold_s < 0:
            raise ValueError("hold times cannot be negative")

    @classmethod
    def from_table(cls, table: CrowdAlertRules) -> AlertRules:
        """The rules a scenario's ``[crowd_alerts]`` table sets."""
        return cls(**table.model_dump())

    def level(
        self,
        ratio: float | None,
        density: float | None,
        *,
        margin: bool = False,
        sure_ratio: float | None = None,
    ) -> Level:
        """The level a reading is at; with ``margin``, the level it still holds on the way down.

        ``sure_ratio`` (the low end of the estimate's interval) decides orange and red when
        given; the estimate's own ``ratio`` decides yellow.
        """
        dr = self.ratio_margin if margin else 0.0
        dd = self.density_margin if margin else 0.0
        level = Level.NONE
        if ratio is not None:
            sure = ratio if sure_ratio is None else min(ratio, sure_ratio)
            for threshold, name, value in (
                (self.red_ratio, Level.RED, sure),
                (self.orange_ratio, Level.ORANGE, sure),
                (self.yellow_ratio, Level.YELLOW, ratio),
            ):
                if value >= threshold - dr:
                    level = name
                    break
        if density is not None:
            if density >= self.density_critical - dd:
                level = max(level, Level.RED)
            elif density >= self.density_warning - dd:
                level = max(level, Level.ORANGE)
        return level

    def cause(self, ratio: float | None, density: float | None) -> str:
        """Which reading sets the level: ``capacity`` or ``density``."""
        by_ratio = self.level(ratio, None)
        by_density = self.level(None, density)
        return "density" if by_density > by_ratio else "capacity"

    def threshold(self, level: Level) -> float:
        """The capacity ratio at which a level begins."""
        return {
            Level.YELLOW: self.yellow_ratio,
            Level.ORANGE: self.orange_ratio,
            Level.RED: self.red_ratio,
        }[level]


def sure_ratio(rules: AlertRules, estimate: Estimate) -> float | None:
    """The low end of the estimate's central ``raise_confidence`` interval, over capacity."""
    if estimate.capacity is None or rules.raise_confidence <= 0:
        return None
    z = NormalDist().inv_cdf(0.5 + rules.raise_confidence / 2)
    return max(0.0, estimate.occupancy - z * estimate.std) / estimate.capacity


def reading(estimate: Estimate) -> tuple[float | None, float]:
    """The ratio and the density an alert judges: the worse of area and local density."""
    density = estimate.density
    if estimate.local_density is not None:
        density = max(density, estimate.local_density)
    return estimate.ratio, density


@dataclass
class LevelTracker:
    """One area's level, moved only when a reading holds long enough."""

    rules: AlertRules
    level: Level = Level.NONE
    _pending: Level | None = None  # the level being held towards
    _since: float = 0.0

    def update(
        self,
        t: float,
        ratio: float | None,
        density: float | None,
        sure_ratio: float | None = None,
    ) -> Level | None:
        """Feed a reading at time t; returns the new level when it changes.

        Orange and red rise and hold on ``sure_ratio``; yellow on ``ratio``.
        """
        rising = self.rules.level(ratio, density, sure_ratio=sure_ratio)
        holding = self.rules.level(ratio, density, margin=True, sure_ratio=sure_ratio)
        if rising > self.level:
            target, hold = rising, self.rules.raise_hold_s
            # While held, only the lowest level seen throughout may be raised to.
            if self._pending is None or self._pending <= self.level:
                self._pending, self._since = target, t
            else:
                self._pending = min(self._pending, target)
        elif holding < self.level:
            target, hold = holding, self.rules.clear_hold_s
            # On the way down, only the highest level seen throughout may be lowered to.
            if self._pending is None or self._pending >= self.level:
                self._pending, self._since = target, t
            else:
                self._pending = max(self._pending, target)
        else:
            self._pending = None
            return None
        if t - self._since < hold:
            return None
        self.level, self._pending = self._pending, None
        # The reading that completed the hold may already point further: start that hold now.
        if rising > self.level or holding < self.level:
            self._pending, self._since = (rising if rising > self.level else holding), t
        return self.level


def predicted_crossing(
    rules: AlertRules,
    *,
    level: Level,
    occupancy: float,
    capacity: int,
    forecasts: list[tuple[float, float]],
    within_s: float = 1800.0,
) -> tuple[Level, float] | None:
    """The highest level above ``level`` the forecast reaches within ``within_s``, and when.

    ``forecasts`` are (seconds ahead, expected occupancy); the path between them is taken as
    straight, starting from the occupancy now.
    """
    path = [(0.0, occupancy), *sorted(f for f in forecasts if f[0] <= within_s)]
    found: tuple[Level, float] | None = None
    for candidate in (Level.YELLOW, Level.ORANGE, Level.RED):
        if candidate <= level:
            continue
        limit = rules.threshold(candidate) * capacity
        for (t0, v0), (t1, v1) in pairwise(path):
            if v0 < limit <= v1:
                found = (candidate, t0 + (t1 - t0) * (limit - v0) / (v1 - v0))
                break
    return found
