"""Occupancy of every area at once: one linear-Gaussian state over the whole venue.

The model (written out with its equations and reasons in docs/crowd.md):

- State: ``n`` (people in each area) and ``u`` (each area's net flow through edges no line
  counts, persons/s), with one covariance over all of them.
- Counting lines are control inputs through the area × line incidence ``B``: a line moves
  people from the area beyond it to its own area, so people are conserved and only lines on
  the venue's edge change the total. A line's systematic error adds ``(gate_error · moved)²``
  along ``B``'s column, so the two sides' errors are correlated as they really are.
- ``u`` is a mean-reverting random walk whose spread comes from Little's law: an area of
  ``L`` people staying ``W`` seconds exchanges about ``L / W`` persons/s. Cameras, drones and
  density readings estimate it online; a silent line's flow becomes unseen flow as well.
- Camera and drone counts are measurements with binomial coverage and detector noise; density
  readings likewise. Estimates are kept in [0, physical maximum].
- The normalised innovation squared of each area's counts is watched over a window; while it
  stays well above 1 the area's process noise is inflated, so a weak camera eventually wins
  over an integrator that is persistently wrong. During an area's empty hours a soft
  pseudo-measurement of zero pulls it down.

Times are seconds since the epoch (floats). The engine is pure: no database, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from lakeguard.ingest.schema import AreaCount, Crossing, DensityEstimate, Observation, SensorStatus
from lakeguard.venue.schema import OUTSIDE

if TYPE_CHECKING:
    from lakeguard.venue.loader import Scenario

FloatArray = npt.NDArray[np.float64]
Z80 = 1.2815515655446004  # the normal quantile bounding a central 80 % interval

# Fruin's walkway levels of service: the upper density bound (persons/m²) of A to E; above E is F.
FRUIN_BOUNDS: tuple[tuple[str, float], ...] = (
    ("A", 0.3),
    ("B", 0.43),
    ("C", 0.71),
    ("D", 1.1),
    ("E", 2.0),
)


def fruin_level(density: float) -> str:
    """Fruin's walkway level of service (A–F) for a density in persons/m²."""
    for level, upper in FRUIN_BOUNDS:
        if density < upper:
            return level
    return "F"


@dataclass(frozen=True)
class EstimatorParams:
    """The error model. Defaults are explained in docs/crowd.md."""

    gate_error: float = 0.03  # relative, systematic error of a counting line
    count_error: float = 0.06  # relative error of a camera or drone head count
    miss_base: float = 0.03  # share of people a head counter misses in a thin crowd ...
    miss_per_density: float = 0.08  # ... and more per person/m² (occlusion)
    miss_max: float = 0.5
    density_error: float = 0.30  # relative error of a density estimate scaled to the area
    dispersion: float = 20.0  # variance/mean of the flow through a silent counting line
    silent_after_s: float = 180.0  # a line with no report for this long counts as silent
    trend_fade_s: float = 900.0  # a silent line's last rates fade out with this time constant
    rate_memory_s: float = 300.0  # time constant of a line's flow-rate average
    dwell_s: float = 1800.0  # Little's law W where the area gives no better figure
    typical_share: float = 0.5  # Little's law L as a share of capacity
    flow_memory_s: float = 1800.0  # correlation time of an area's unseen flow
    flow_scale: float = 0.5  # spread of the unseen flow in units of L / W
    leak_share: float = 0.25  # ... plus this share of the flow through the area's lines
    max_density: float = 5.0  # persons/m²: no area holds more
    nis_memory: float = 20.0  # readings over which the normalised innovation is averaged
    nis_high: float = 3.0  # above this the process noise is inflated ...
    inflate_step: float = 1.5  # ... by this factor per reading, up to
    inflate_max: float = 400.0
    empty_std_share: float = 0.05  # an empty-hours pseudo-reading: 0 ± this share of capacity
    empty_every_s: float = 300.0
    surprise_gate: float = 3.0  # a reading this many standard deviations off is an outlier
    local_density_ttl_s: float = 120.0  # a local density reading stands for this long
    silence_s: float = 600.0  # an area whose sensors are all quiet this long is silent
    contributor_memory_s: float = 900.0


@dataclass(frozen=True)
class Estimate:
    """An area's occupancy at one moment, and what follows from it."""

    area_id: str
    at: float
    occupancy: float
    std: float
    low80: float  # the central 80 % interval, cut to [0, physical maximum]
    high80: float
    density: float  # persons per m² of usable area
    level_of_service: str  # Fruin A–F
    capacity: int | None
    ratio: float | None  # occupancy / instantaneous capacity
    local_density: float | None  # the highest fresh local density reading, if any
    anchored: bool  # False while only counting lines have been heard (the level is a guess)
    silent: bool = False  # every sensor of the area has been quiet for ``silence_s``


@dataclass
class _Line:
    column: FloatArray  # the line's incidence column over the state (n part only)
    index: int
    inner: int | None = None  # the area a line drawn inside its own area lies in
    rate_in: float = 0.0
    rate_out: float = 0.0
    last_at: float | None = None
    offline_since: float | None = None

    def silent_from(self, silent_after_s: float) -> float | None:
        if self.offline_since is not None:
            return self.offline_since
        if self.last_at is None:
            return None
        return self.last_at + silent_after_s


@dataclass
class _Pending:
    """Measurements waiting for the state to reach their time."""

    rows: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    variances: list[float] = field(default_factory=list)
    sensors: list[str] = field(default_factory=list)


class VenueEstimator:
    """Every area's occupancy from every sensor, updated as observations arrive."""

    def __init__(self, scenario: Scenario, params: EstimatorParams | None = None) -> None:
        self.params = p = params or EstimatorParams()
        self.area_ids = tuple(a.id for a in scenario.areas)
        self._index = {a: i for i, a in enumerate(self.area_ids)}
        self._areas = scenario.areas
        self._zone = ZoneInfo(scenario.config.timezone)
        k = len(self.area_ids)
        self.k = k
        self.usable = np.array([a.usable_m2 for a in scenario.areas])
        self.capacity = [a.capacity for a in scenario.areas]
        self.upper = self.usable * p.max_density
        scale = np.array([float(a.capacity or a.usable_m2 / 5.0) for a in scenario.areas])
        self.scale = scale
        # Little's law: L = typical_share · capacity people staying dwell_s exchange L / W per s.
        flow_sd = p.flow_scale * p.typical_share * scale / p.dwell_s
        self._flow_var = flow_sd**2  # stationary variance of u
        self.x = np.zeros(2 * k)
        self.P = np.zeros((2 * k, 2 * k))
        self.P[:k, :k] = np.diag(scale**2)  # before anything is heard: about capacity wide
        self.P[k:, k:] = np.diag(self._flow_var)
        self.at: float | None = None
        self.inflate = np.ones(k)
        self.nis = np.ones(k)
        self._surprise = np.zeros(k, dtype=np.int64)
        self.anchored = np.zeros(k, dtype=bool)
        self.heard = np.zeros(k, dtype=bool)
        self._sensor_area: dict[str, int] = {}
        self._sensors_of: list[list[str]] = [[] for _ in range(k)]
        self._lines: dict[str, _Line] = {}
        self._last_heard: dict[str, float] = {}
        self._area_heard = np.full(k, -math.inf)  # the newest report of any of its sensors
        self.faulty: set[str] = set()
        self._empty_due = np.full(k, -np.inf)
        self._local: list[dict[str, tuple[float, float]]] = [{} for _ in range(k)]
        self._contrib: list[dict[str, tuple[float, float]]] = [{} for _ in range(k)]
        self._pending = _Pending()
        self._version = 0  # bumped by every change of the state, for the carried-forward cache
        self._cache: tuple[tuple[float, int], FloatArray, FloatArray] | None = None
        for sensor in scenario.sensors:
            i = self._index[sensor.area]
            self._sensor_area[sensor.id] = i
            self._sensors_of[i].append(sensor.id)
            if sensor.counts_line:
                column = np.zeros(k)
                column[i] += 1.0
                if sensor.beyond not in (None, OUTSIDE):
                    column[self._index[sensor.beyond]] -= 1.0
                inner = i if sensor.beyond == sensor.area else None
                if inner is not None:
                    column[:] = 0.0
                self._lines[sensor.id] = _Line(column, len(self._lines), inner)
                if sensor.beyond not in (None, OUTSIDE):
                    self._sensors_of[self._index[sensor.beyond]].append(sensor.id)

        self._sensor_areas = {
            s: tuple(j for j in range(k) if s in self._sensors_of[j]) for s in self._sensor_area
        }
        # |B|: persons/s through each area's lines is |B| @ (rate_in + rate_out).
        touches = []
        for line in self._lines.values():
            touch = np.abs(line.column)
            if line.inner is not None:
                touch[line.inner] = 1.0
            touches.append(touch)
        self._touches = np.array(touches).reshape(len(touches), k).T
        self._line_rate = np.zeros(len(self._lines))
        # B, and the crossings waiting to be applied with the next batch: net and variance.
        self._B = np.array([line.column for line in self._lines.values()]).reshape(-1, k).T
        self._line_areas = {
            s: tuple(np.flatnonzero(line.column).tolist()) for s, line in self._lines.items()
        }
        self._net = np.zeros(len(self._lines))
        self._var = np.zeros(len(self._lines))
        self._crossed = False

    # --- reading ----------------------------------------------------------------------------

    def area_of(self, sensor_id: str) -> str | None:
        i = self._sensor_area.get(sensor_id)
        return None if i is None else self.area_ids[i]

    def areas_of(self, sensor_id: str) -> tuple[str, ...]:
        """The areas a sensor's reports change: its own, and a line's far side."""
        i = self._sensor_area.get(sensor_id)
        if i is None:
            return ()
        line = self._lines.get(sensor_id)
        if line is None:
            return (self.area_ids[i],)
        return tuple(self.area_ids[j] for j in np.flatnonzero(line.column))

    def estimate(self, area_id: str, now: float) -> Estimate | None:
        """The area's estimate carried forward to ``now``; None if it was never observed."""
        i = self._index[area_id]
        if self.at is None or not self.heard[i]:
            return None
        means, variances = self._carried(now)
        mean, var = float(means[i]), float(variances[i])
        mean = min(max(mean, 0.0), float(self.upper[i]))
        std = math.sqrt(max(var, 0.0))
        cap = self.capacity[i]
        density = mean / float(self.usable[i])
        fresh = [
            d for d, t in self._local[i].values() if now - t <= self.params.local_density_ttl_s
        ]
        return Estimate(
            area_id=area_id,
            at=max(now, self.at),
            occupancy=mean,
            std=std,
            low80=max(0.0, mean - Z80 * std),
            high80=min(float(self.upper[i]), mean + Z80 * std),
            density=density,
            level_of_service=fruin_level(density),
            capacity=cap,
            ratio=mean / cap if cap else None,
            local_density=max(fresh) if fresh else None,
            anchored=bool(self.anchored[i]),
            silent=self.silent(area_id, now),
        )

    def _carried(self, now: float) -> tuple[FloatArray, FloatArray]:
        """Every area's mean and variance carried from the state's time to ``now``."""
        self._flush()
        assert self.at is not None
        key = (now, self._version)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1], self._cache[2]
        k = self.k
        mean, var = self.x[:k].copy(), np.diag(self.P)[:k].copy()
        if now > self.at:
            dt = now - self.at
            gain = self.params.flow_memory_s * (1.0 - math.exp(-dt / self.params.flow_memory_s))
            drift, extra = self._silent_drift(self.at, now)
            cross = np.diag(self.P[:k, k:])
            mean += gain * self.x[k:] + drift
            var += 2.0 * gain * cross + gain * gain * np.diag(self.P)[k:] + extra
            var += self._flow_noise(dt)[0]
        np.clip(mean, 0.0, self.upper, out=mean)
        self._cache = (key, mean, var)
        return mean, var

    def silent(self, area_id: str, now: float) -> bool:
        """Every sensor of the area (faulty ones aside) quiet for ``silence_s``."""
        heard = float(self._area_heard[self._index[area_id]])
        return heard > -math.inf and now - heard >= self.params.silence_s

    def sensors_of(self, area_id: str) -> tuple[str, ...]:
        """The sensors whose reports change the area (its own and lines on its edge)."""
        return tuple(self._sensors_of[self._index[area_id]])

    def last_heard(self, area_id: str) -> float | None:
        """When any of the area's sensors (faulty ones aside) last reported."""
        heard = float(self._area_heard[self._index[area_id]])
        return heard if heard > -math.inf else None

    def _rehear(self, i: int) -> None:
        heard = [
            self._last_heard[s]
            for s in self._sensors_of[i]
            if s in self._last_heard and s not in self.faulty
        ]
        self._area_heard[i] = max(heard) if heard else -math.inf

    def contributors(self, area_id: str, now: float, top: int = 3) -> list[str]:
        """The sensors that moved the area's estimate most over the recent past."""
        memory = self.params.contributor_memory_s
        weights = {
            s: w * math.exp(-(now - t) / memory)
            for s, (w, t) in self._contrib[self._index[area_id]].items()
        }
        ranked = sorted(weights.items(), key=lambda kv: -kv[1])
        return [s for s, w in ranked[:top] if w > 0.5]

    # --- writing ----------------------------------------------------------------------------

    def apply(self, observation: Observation) -> str:
        """Fold one observation in; returns the area of its sensor."""
        i = self._sensor_area[observation.sensor_id]
        sensor = observation.sensor_id
        t = observation.at.timestamp()
        self._last_heard[sensor] = max(self._last_heard.get(sensor, t), t)
        if sensor in self.faulty:
            return self.area_ids[i]
        for j in self._sensor_areas[sensor]:
            if t > self._area_heard[j]:
                self._area_heard[j] = t
        self._advance(t)
        if isinstance(observation, Crossing):
            self._crossing(sensor, observation, t)
        elif isinstance(observation, AreaCount):
            c = observation.coverage
            # A head counter misses more people the denser the crowd (occlusion).
            density = float(self.x[i]) / float(self.usable[i])
            p = self.params
            detect = 1.0 - min(p.miss_max, p.miss_base + p.miss_per_density * density)
            z = observation.count / (c * detect)
            # Binomial thinning: N·(1 − c)/c of extrapolation variance for N people present;
            # N is the larger of estimate and reading, so a narrow view that sees nobody is
            # not believed to the last person.
            # A view that sees nobody still leaves about 1/c people unseen.
            sampling = max(float(self.x[i]), z, 1.0 / c) * (1 - c) / c
            self._measure(i, z, (self.params.count_error * z) ** 2 + sampling + 1.0, sensor, t)
        elif isinstance(observation, DensityEstimate):
            z = observation.persons_per_m2 * float(self.usable[i])
            self._measure(i, z, (self.params.density_error * z) ** 2 + 1.0, sensor, t)
            self._local[i][sensor] = (observation.persons_per_m2, t)
        elif isinstance(observation, SensorStatus):
            line = self._lines.get(sensor)
            if line is not None:
                if observation.online:
                    line.offline_since = None
                    line.last_at = max(line.last_at or t, t)
                elif line.offline_since is None:
                    line.offline_since = t
        return self.area_ids[i]

    def manual_count(self, area_id: str, *, at: float, count: float, std: float) -> None:
        """An operator's head count (a drone pass, a count at a gate) as a measurement."""
        i = self._index[area_id]
        self._advance(at)
        self._measure(i, count, max(std, 1.0) ** 2, "manual", at)

    def mark_faulty(self, sensor_id: str, faulty: bool) -> None:
        """Exclude a sensor's reports until it is restored."""
        if sensor_id not in self._sensor_area:
            raise KeyError(sensor_id)
        if faulty:
            self.faulty.add(sensor_id)
        else:
            self.faulty.discard(sensor_id)
        for j in self._sensor_areas[sensor_id]:
            self._rehear(j)

    def restore(self, area_id: str, *, at: float, occupancy: float, std: float) -> None:
        """Start an area from a stored estimate (after a restart)."""
        i = self._index[area_id]
        self._version += 1
        self.at = at if self.at is None else max(self.at, at)
        self.x[i] = occupancy
        self.P[i, :] = 0.0
        self.P[:, i] = 0.0
        self.P[i, i] = std * std
        self.anchored[i] = self.heard[i] = True

    def tick(self, now: float) -> None:
        """Carry the state to ``now`` with no new data (empty hours are judged here too)."""
        self._advance(now)
        self._flush()

    # --- the filter -------------------------------------------------------------------------

    def _advance(self, t: float) -> None:
        if self.at is None:
            self.at = t
            return
        if t <= self.at:
            return
        self._flush()
        self._predict(self.at, t)
        self._version += 1
        self.at = t
        self._empty_hours(t)

    def _flow_noise(self, dt: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Variance added over dt to n, n×u and u by the unseen flow (an OU process)."""
        tau = self.params.flow_memory_s
        leak = self.params.leak_share * (self._touches @ self._line_rate)
        q = (self._flow_var + leak * leak) * self.inflate
        decay = math.exp(-dt / tau)
        # Exact integrals of an OU rate and its integral over dt, per area.
        var_u = q * (1.0 - decay * decay)
        cov = q * tau * (1.0 - decay) ** 2
        var_n = q * tau * tau * (2.0 * dt / tau - 3.0 + 4.0 * decay - decay * decay)
        return var_n, cov, var_u

    def _predict(self, t0: float, t1: float) -> None:
        k, dt = self.k, t1 - t0
        tau = self.params.flow_memory_s
        decay = math.exp(-dt / tau)
        gain = tau * (1.0 - decay)
        # F = [[I, gain·I], [0, decay·I]]; applied blockwise, no 2k × 2k products.
        P = self.P
        nn, nu, uu = P[:k, :k], P[:k, k:], P[k:, k:]
        new_nn = nn + gain * (nu + nu.T) + gain * gain * uu
        new_nu = decay * (nu + gain * uu)
        new_uu = decay * decay * uu
        var_n, cov, var_u = self._flow_noise(dt)
        drift, extra = self._silent_drift(t0, t1)
        idx = np.arange(k)
        new_nn[idx, idx] += var_n + extra
        new_nu[idx, idx] += cov
        new_uu[idx, idx] += var_u
        P[:k, :k], P[:k, k:], P[k:, :k], P[k:, k:] = new_nn, new_nu, new_nu.T, new_uu
        self.x[:k] += gain * self.x[k:] + drift
        self.x[k:] *= decay
        np.clip(self.x[:k], 0.0, self.upper, out=self.x[:k])

    def _silent_drift(self, t0: float, t1: float) -> tuple[FloatArray, FloatArray]:
        """A silent line's fading trend, and its unseen flow's variance, from t0 to t1."""
        p = self.params
        drift, extra = np.zeros(self.k), np.zeros(self.k)
        for line in self._lines.values():
            since = line.silent_from(p.silent_after_s)
            if since is None or since >= t1:
                continue
            start = max(t0, since)
            tau = p.trend_fade_s
            fade = tau * (math.exp(-(start - since) / tau) - math.exp(-(t1 - since) / tau))
            drift += line.column * ((line.rate_in - line.rate_out) * fade)
            extra += (
                np.abs(line.column) * (p.dispersion * (line.rate_in + line.rate_out)) * (t1 - start)
            )
        return drift, extra

    def _crossing(self, sensor: str, obs: Crossing, t: float) -> None:
        line = self._lines[sensor]
        net = float(obs.entered - obs.exited)
        moved = float(obs.entered + obs.exited)
        # Applied with the batch (n += B·net, P += B·diag(var)·Bᵀ), before the readings.
        self._net[line.index] += net
        self._var[line.index] += (self.params.gate_error * moved) ** 2
        self._crossed = True
        nz = self._line_areas[sensor]
        for j in nz:
            self.heard[j] = True
        weight = 1.0 - math.exp(-obs.window_s / self.params.rate_memory_s)
        line.rate_in += weight * (obs.entered / obs.window_s - line.rate_in)
        line.rate_out += weight * (obs.exited / obs.window_s - line.rate_out)
        self._line_rate[line.index] = line.rate_in + line.rate_out
        line.last_at = t if line.last_at is None else max(line.last_at, t)
        line.offline_since = None
        if net:
            for j in nz:
                self._credit(j, sensor, abs(net), t)

    def _measure(self, i: int, z: float, r: float, sensor: str, t: float) -> None:
        assert self.at is not None
        if t < self.at:
            r += float(self._flow_noise(self.at - t)[0][i])  # a late reading says less about now
        self._pending_row(i, z, r, sensor)
        self.heard[i] = self.anchored[i] = True

    def _pending_row(self, row: int, z: float, r: float, sensor: str) -> None:
        pending = self._pending
        pending.rows.append(row)
        pending.values.append(z)
        pending.variances.append(r)
        pending.sensors.append(sensor)

    def _flush(self) -> None:
        """Apply the pending measurements in one batch update."""
        if self._crossed:
            k = self.k
            self._version += 1
            self.x[:k] += self._B @ self._net
            self.P[:k, :k] += (self._B * self._var) @ self._B.T
            np.clip(self.x[:k], 0.0, self.upper, out=self.x[:k])
            self._net[:] = 0.0
            self._var[:] = 0.0
            self._crossed = False
        pending = self._pending
        if not pending.rows:
            return
        self._pending = _Pending()
        self._version += 1
        rows = np.array(pending.rows)
        z = np.array(pending.values)
        r = np.array(pending.variances)
        P = self.P
        counts = rows < self.k  # readings of occupancy, not of unseen flow
        self._jumps(rows[counts], (z - self.x[rows])[counts], (np.diag(P)[rows] + r)[counts])
        PHt = P[:, rows]
        S = PHt[rows, :] + np.diag(r)
        innovation = z - self.x[rows]
        gain = np.linalg.solve(S, PHt.T).T
        shift = gain * innovation
        self.x += shift.sum(axis=1)
        P -= gain @ PHt.T
        P += P.T
        P *= 0.5
        np.clip(self.x[: self.k], 0.0, self.upper, out=self.x[: self.k])
        self._adapt(rows[counts], (innovation**2 / np.diag(S))[counts])
        assert self.at is not None
        for j, sensor in enumerate(pending.sensors):
            area = int(rows[j]) % self.k
            self._credit(area, sensor, abs(float(shift[area, j])), self.at)

    def _jumps(
        self, rows: npt.NDArray[np.int64], innovation: FloatArray, spread: FloatArray
    ) -> None:
        """Two outlying readings in a row on the same side: the crowd really moved.

        Widen the area's state to take the jump at once instead of creeping towards it for
        minutes; a single wild reading does not.
        """
        gate = self.params.surprise_gate**2
        for i, nu, s in zip(rows.tolist(), innovation.tolist(), spread.tolist(), strict=True):
            side = 0 if nu * nu <= gate * s else (1 if nu > 0 else -1)
            if side and side == self._surprise[i]:
                self.P[i, i] += nu * nu - s
            self._surprise[i] = side

    def _adapt(self, rows: npt.NDArray[np.int64], nis: FloatArray) -> None:
        """Inflate an area's process noise while its readings stay surprising."""
        p = self.params
        weight = 1.0 / p.nis_memory
        for i, value in zip(rows.tolist(), nis.tolist(), strict=True):
            self.nis[i] += weight * (min(value, 100.0) - self.nis[i])
            if self.nis[i] > p.nis_high:
                self.inflate[i] = min(self.inflate[i] * p.inflate_step, p.inflate_max)
            else:
                self.inflate[i] = max(1.0, self.inflate[i] / p.inflate_step)

    def _empty_hours(self, t: float) -> None:
        """A soft reading of zero for areas in their empty hours, every ``empty_every_s``."""
        local = datetime.fromtimestamp(t, UTC).astimezone(self._zone)
        minute = local.hour * 60 + local.minute
        for i, area in enumerate(self._areas):
            if not area.empty_hours or t < self._empty_due[i] or not area.empty_at(minute):
                continue
            self._empty_due[i] = t + self.params.empty_every_s
            sd = max(1.0, self.params.empty_std_share * float(self.scale[i]))
            self._measure(i, 0.0, sd * sd, "empty_hours", t)

    def _credit(self, i: int, sensor: str, amount: float, t: float) -> None:
        memory = self.params.contributor_memory_s
        weight, at = self._contrib[i].get(sensor, (0.0, t))
        self._contrib[i][sensor] = (weight * math.exp(-(t - at) / memory) + amount, t)

    def estimates(self, area_ids: Iterable[str], now: float) -> list[Estimate]:
        found = (self.estimate(a, now) for a in area_ids)
        return [e for e in found if e is not None]
