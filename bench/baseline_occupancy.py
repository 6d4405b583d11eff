"""The per-area occupancy filter as it was before the venue-wide estimator: the baseline only.

A frozen copy of ``lakeguard.crowd.engine`` at the time ``bench.estimate`` was written, kept so
the benchmark can score the estimator under test against the filter it replaces, on the same
twin day. Nothing in the platform imports it; do not tune it.

The model (written out with its reasons in docs/crowd.md at the time):

- State: the number of people in the area, ``mean`` with variance ``var``.
- Counting lines are the control input: ``in − out`` is added as it arrives. A line misses or
  double-counts a few per cent of people, and that error has a direction (a line that misses 3 %
  keeps missing 3 %), so each crossing report adds ``(gate_error · (in + out))²`` of variance:
  integrated flows drift.
- Camera and drone counts are measurements: ``count / coverage`` estimates the whole area, with
  a relative error plus the sampling error of extrapolating from the covered fraction. The
  Kalman gain weighs them against the drifted integral and corrects it.
- Density estimates are weaker measurements (``persons/m² × usable area``); the highest fresh
  local density in an area is also kept, because a crush starts locally.
- Time passing adds variance for the boundaries no line counts (a share of the capacity per
  second). A counting line that goes silent (offline, or no report for ``silent_after_s``) is an
  unobserved flow: its recent rates keep moving the mean, fading out, while its overdispersed
  Poisson variance ``dispersion · (λ_in + λ_out)`` per second widens the uncertainty, instead
  of the value freezing with false confidence.

Times are seconds since the epoch (floats), so the hot path does no datetime arithmetic.
The engine is pure: no database, no clock; the service feeds it and stores what it says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lakeguard.crowd.estimator import fruin_level
from lakeguard.ingest.schema import (
    AreaCount,
    Crossing,
    DensityEstimate,
    Observation,
    SensorStatus,
)
from lakeguard.venue.schema import SensorKind

if TYPE_CHECKING:
    from lakeguard.venue.loader import Scenario


@dataclass(frozen=True)
class EngineParams:
    """The error model. Defaults are explained in docs/crowd.md."""

    gate_error: float = 0.03  # relative, systematic error of a counting line
    count_error: float = 0.10  # relative error of a camera or drone head count
    density_error: float = 0.30  # relative error of a density estimate scaled to the area
    dispersion: float = 20.0  # variance/mean of the flow through a silent counting line
    silent_after_s: float = 180.0  # a line with no report for this long counts as silent
    trend_fade_s: float = 900.0  # a silent line's last rates fade out with this time constant
    rate_memory_s: float = 300.0  # time constant of a line's flow-rate average
    unmonitored_share: float = 0.005  # variance per second, as a share of capacity
    local_density_ttl_s: float = 120.0  # a local density reading stands for this long
    surprise_gate: float = 3.0  # a reading this many standard deviations off is an outlier


@dataclass
class _Line:
    """A counting line: its recent rates (persons/s) and when it was last heard from."""

    area_id: str
    rate_in: float = 0.0
    rate_out: float = 0.0
    last_at: float | None = None
    offline_since: float | None = None

    def silent_from(self, params: EngineParams) -> float | None:
        """When this line's silence began, or None if it was never heard."""
        if self.offline_since is not None:
            return self.offline_since
        if self.last_at is None:
            return None
        return self.last_at + params.silent_after_s


@dataclass
class _Area:
    area_id: str
    usable_m2: float
    capacity: int | None
    unmonitored_rate: float  # variance per second from boundaries no line counts
    mean: float = 0.0
    var: float = 0.0
    at: float | None = None  # time of the state; None until the first observation
    counted: bool = False  # a count or density has anchored the level
    surprise: int = 0  # the side (+1/-1) of the last reading if it was an outlier, else 0
    lines: list[_Line] = field(default_factory=list)
    local_density: dict[str, tuple[float, float]] = field(default_factory=dict)  # sensor: (d, t)


@dataclass(frozen=True)
class Estimate:
    """An area's occupancy at one moment, and what follows from it."""

    area_id: str
    at: float
    occupancy: float
    std: float
    density: float  # persons per m² of usable area
    level_of_service: str  # Fruin A–F
    capacity: int | None
    ratio: float | None  # occupancy / instantaneous capacity
    local_density: float | None  # the highest fresh local density reading, if any
    anchored: bool  # False while only counting lines have been heard (the level is a guess)


class OccupancyEngine:
    """Every area's estimate, updated one observation at a time."""

    def __init__(self, scenario: Scenario, params: EngineParams | None = None) -> None:
        self.params = params or EngineParams()
        share = self.params.unmonitored_share
        self._areas: dict[str, _Area] = {
            a.id: _Area(a.id, a.usable_m2, a.capacity, share * (a.capacity or 1000))
            for a in scenario.areas
        }
        self._sensor_area: dict[str, str] = {}
        self._lines: dict[str, _Line] = {}
        for sensor in scenario.sensors:
            self._sensor_area[sensor.id] = sensor.area
            if sensor.kind in (SensorKind.GATE, SensorKind.CHECKPOINT):
                line = _Line(sensor.area)
                self._lines[sensor.id] = line
                self._areas[sensor.area].lines.append(line)
        for area in self._areas.values():
            # Before anything anchors it the level is unknown: about the whole capacity wide.
            area.var = float(area.capacity or 1000) ** 2

    def area_of(self, sensor_id: str) -> str | None:
        return self._sensor_area.get(sensor_id)

    def restore(self, area_id: str, *, at: float, occupancy: float, std: float) -> None:
        """Start an area from a stored estimate (after a restart)."""
        area = self._areas[area_id]
        area.mean, area.var, area.at, area.counted = occupancy, std * std, at, True

    def apply(self, observation: Observation) -> str:
        """Fold one observation into its area's estimate; returns the area id."""
        area_id = self._sensor_area[observation.sensor_id]
        area = self._areas[area_id]
        t = observation.at.timestamp()
        if isinstance(observation, Crossing):
            self._crossing(area, observation, t)
        elif isinstance(observation, AreaCount):
            coverage = observation.coverage
            z = observation.count / coverage
            # Extrapolating from the covered share: binomial thinning gives N·(1 − c)/c for the
            # N people in the area. N is taken as the larger of the estimate and the reading,
            # so a narrow view that happens to see nobody is not believed to the last person.
            sampling = max(area.mean, z) * (1 - coverage) / coverage
            self._measure(area, t, z, (self.params.count_error * z) ** 2 + sampling + 1.0)
        elif isinstance(observation, DensityEstimate):
            z = observation.persons_per_m2 * area.usable_m2
            self._measure(area, t, z, (self.params.density_error * z) ** 2 + 1.0)
            area.local_density[observation.sensor_id] = (observation.persons_per_m2, t)
        elif isinstance(observation, SensorStatus):
            line = self._lines.get(observation.sensor_id)
            if line is not None:
                self._advance(area, t)
                if observation.online:
                    line.offline_since = None
                    line.last_at = max(line.last_at or t, t)
                elif line.offline_since is None:
                    line.offline_since = t
        return area_id

    def _crossing(self, area: _Area, obs: Crossing, t: float) -> None:
        self._advance(area, t)
        line = self._lines[obs.sensor_id]
        moved = obs.entered + obs.exited
        area.mean = max(0.0, area.mean + obs.entered - obs.exited)
        area.var += (self.params.gate_error * moved) ** 2
        weight = 1.0 - math.exp(-obs.window_s / self.params.rate_memory_s)
        line.rate_in += weight * (obs.entered / obs.window_s - line.rate_in)
        line.rate_out += weight * (obs.exited / obs.window_s - line.rate_out)
        line.last_at = t if line.last_at is None else max(line.last_at, t)
        line.offline_since = None

    def _measure(self, area: _Area, t: float, z: float, r: float) -> None:
        if area.at is not None and t < area.at:
            r += area.unmonitored_rate * (area.at - t)  # a late reading says less about now
        else:
            self._advance(area, t)
        innovation = z - area.mean
        spread = area.var + r
        surprise = 0
        if innovation * innovation > self.params.surprise_gate**2 * spread:
            surprise = 1 if innovation > 0 else -1
            if surprise == area.surprise:
                # Two outlying readings in a row on the same side: the crowd really moved
                # faster than the process noise allows. Widen the state to take the jump,
                # instead of creeping towards it for minutes. A single wild count does not.
                area.var += innovation * innovation - spread
        area.surprise = surprise
        gain = area.var / (area.var + r)
        area.mean = max(0.0, area.mean + gain * innovation)
        area.var *= 1.0 - gain
        area.counted = True

    def _advance(self, area: _Area, t: float) -> None:
        if area.at is None:
            area.at = t
            return
        if t <= area.at:
            return
        drift, extra = self._drift(area, area.at, t)
        area.mean = max(0.0, area.mean + drift)
        area.var += extra
        area.at = t

    def _drift(self, area: _Area, t0: float, t1: float) -> tuple[float, float]:
        """Change of mean and variance from t0 to t1 with no observation in between."""
        params = self.params
        extra = area.unmonitored_rate * (t1 - t0)
        drift = 0.0
        for line in area.lines:
            since = line.silent_from(params)
            if since is None or since >= t1:
                continue
            start = max(t0, since)
            tau = params.trend_fade_s
            fade = tau * (math.exp(-(start - since) / tau) - math.exp(-(t1 - since) / tau))
            drift += (line.rate_in - line.rate_out) * fade
            extra += params.dispersion * (line.rate_in + line.rate_out) * (t1 - start)
        return drift, extra

    def estimate(self, area_id: str, now: float) -> Estimate | None:
        """The area's estimate carried forward to ``now``; None if it was never observed."""
        area = self._areas[area_id]
        if area.at is None:
            return None
        mean, var = area.mean, area.var
        if now > area.at:
            drift, extra = self._drift(area, area.at, now)
            mean, var = max(0.0, mean + drift), var + extra
        density = mean / area.usable_m2
        fresh = [
            d for d, t in area.local_density.values() if now - t <= self.params.local_density_ttl_s
        ]
        return Estimate(
            area_id=area_id,
            at=max(now, area.at),
            occupancy=mean,
            std=math.sqrt(var),
            density=density,
            level_of_service=fruin_level(density),
            capacity=area.capacity,
            ratio=mean / area.capacity if area.capacity else None,
            local_density=max(fresh) if fresh else None,
            anchored=area.counted,
        )
