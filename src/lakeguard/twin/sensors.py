"""The sensor model: what each sensor in the scenario would report about the crowd's truth.

Each frame (one step of the twin clock) every sensor sends what a real one would:

- counting lines (gates) and road checkpoints: ``crossing`` with ``in`` and ``out`` over the
  frame; each line misses a fixed share of people (drawn once per line, a few per cent) and
  double-counts a few, with binomial and Poisson noise on top;
- cameras: ``count`` of the people in their field of view with its ``coverage`` (the share of
  the area in view); people are spread evenly over the area, so the number in view is a
  binomial draw, and a camera misses more of them the denser the crowd (occlusion); with
  ``clustering`` set, people gather unevenly instead: the chance of being in view is the
  coverage shifted by a bias fixed per view for the day and a slow wander (in log-odds);
- drone stations: a ``count`` from the air over a disc around the station, every few minutes
  and in daylight only;
- failures: a single report now and then goes missing, and now and then a sensor goes offline
  for a spell: it sends ``status`` offline, stays silent, and sends ``status`` online when it
  is back.

A harsher day can be asked for in the config (``loss``): a further share of reports is lost,
and every counting line goes offline once, for an hour by default, at a random time of the
day's busy hours. It draws from a random stream of its own, so the values reported are those
of the ordinary day of the same seed; only which of them arrive changes. Clustering draws its biases
and wanders from another stream of its own.

Event ids are deterministic and unique per sensor (day, time, kind), so a replayed day is
recognised as duplicates by the ingest path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from scipy.special import expit, logit

from lakeguard.twin.config import (
    Clustering,
    SensorConfig,
    ViewNoise,
    clock_s,
    load_crowd_twin,
    twin_file,
)
from lakeguard.twin.frame import CrowdFrame
from lakeguard.venue.geometry import LocalProjection
from lakeguard.venue.loader import Scenario
from lakeguard.venue.schema import SensorKind

FloatArray = npt.NDArray[np.float64]
MIN_COVERAGE = 1e-4  # a view that misses its area still reports (schema: coverage > 0)


@dataclass(frozen=True)
class _Views:
    """Cameras or drone stations of one kind: which sensors, their areas and coverage."""

    index: npt.NDArray[np.int64]  # positions in the scenario's sensor list
    area: npt.NDArray[np.int64]
    coverage: FloatArray


class _Uneven:
    """The share of an area's people in each view of a kind, when the crowd gathers unevenly."""

    def __init__(self, config: Clustering, coverage: FloatArray, rng: np.random.Generator) -> None:
        self.config, self.rng = config, rng
        self.logit = logit(coverage)
        self.bias = rng.normal(0.0, config.bias_sd, len(coverage))  # where the view points
        self.drift = rng.normal(0.0, config.drift_sd, len(coverage))  # where the crowd is now
        self.t: float | None = None

    def share(self, t: float) -> FloatArray:
        """Each view's share at time t; the wander moves on by the time since the last call."""
        if self.t is not None and t > self.t:
            keep = math.exp(-(t - self.t) / self.config.drift_tau_s)
            fresh = math.sqrt(1.0 - keep * keep) * self.config.drift_sd
            self.drift = keep * self.drift + fresh * self.rng.standard_normal(len(self.drift))
        self.t = t
        shares: FloatArray = expit(self.logit + self.bias + self.drift)
        return shares


class SensorModel:
    """Observations for ``POST /api/v1/observations`` from the twin's frames."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int,
        day_start: datetime,
        config: SensorConfig | None = None,
    ) -> None:
        if day_start.tzinfo is None or day_start.utcoffset() is None:
            raise ValueError("day_start must be timezone-aware")
        self.config = config or load_crowd_twin(twin_file(scenario.source)).sensors
        self.day_start = day_start
        self._tag = day_start.strftime("%Y%m%d")
        self.rng = np.random.default_rng(seed)
        self.sensor_ids = tuple(s.id for s in scenario.sensors)
        self.kinds = tuple(s.kind for s in scenario.sensors)
        area_index = {a.id: i for i, a in enumerate(scenario.areas)}
        self.sensor_area = np.array([area_index[s.area] for s in scenario.sensors])
        self.usable_m2 = np.array([a.usable_m2 for a in scenario.areas])
        n = len(self.sensor_ids)
        low, high, double = np.zeros(n), np.zeros(n), np.zeros(n)
        for i, kind in enumerate(self.kinds):
            if kind in (SensorKind.GATE, SensorKind.CHECKPOINT):
                noise = self.config.gate if kind == SensorKind.GATE else self.config.checkpoint
                low[i], high[i], double[i] = (
                    noise.undercount_min, noise.undercount_max, noise.double_count
                )  # fmt: skip
        # Each line's miss rate is a property of the device and its mounting: drawn once.
        self.detect = 1.0 - self.rng.uniform(low, high)
        self.double = double
        self.cameras = self._views(scenario, SensorKind.CAMERA)
        self.drones = self._views(scenario, SensorKind.DRONE_STATION)
        self.offline_until = np.full(n, -np.inf)
        self._loss_rng = np.random.default_rng([seed, 1])
        self.outage_at = self._outage_starts()
        flights = self.config.drone_flights
        self._first_flight, self._last_flight = clock_s(flights.first), clock_s(flights.last)
        self._uneven: dict[SensorKind, _Uneven] = {}
        if self.config.clustering is not None:
            rng = np.random.default_rng([seed, 2])
            for kind, views in ((SensorKind.CAMERA, self.cameras),
                                (SensorKind.DRONE_STATION, self.drones)):  # fmt: skip
                self._uneven[kind] = _Uneven(self.config.clustering, views.coverage, rng)

    def _views(self, scenario: Scenario, kind: SensorKind) -> _Views:
        centre = shapely.MultiPoint([a.shape.centroid for a in scenario.areas]).centroid
        projection = LocalProjection(centre.x, centre.y)
        area_shapes = {a.id: projection.geometry_to_xy(a.shape) for a in scenario.areas}
        index, area, coverage = [], [], []
        for i, sensor in enumerate(scenario.sensors):
            if sensor.kind != kind:
                continue
            shape = area_shapes[sensor.area]
            view = projection.geometry_to_xy(sensor.shape)
            if kind == SensorKind.DRONE_STATION:
                view = view.buffer(self.config.drone_flights.view_radius_m)
            share = view.intersection(shape).area / shape.area if shape.area > 0 else 0.0
            index.append(i)
            area.append(int(self.sensor_area[i]))
            coverage.append(min(1.0, max(share, MIN_COVERAGE)))
        return _Views(np.array(index, dtype=np.int64), np.array(area, dtype=np.int64),
                      np.array(coverage))  # fmt: skip

    def _outage_starts(self) -> FloatArray:
        """When (seconds into the day) each counting line's outage begins; NaN for none."""
        starts = np.full(len(self.sensor_ids), np.nan)
        loss = self.config.loss
        if loss is None or loss.line_outage_s <= 0:
            return starts
        lines = np.array([k in (SensorKind.GATE, SensorKind.CHECKPOINT) for k in self.kinds])
        drawn = self._loss_rng.uniform(
            clock_s(loss.outage_from), clock_s(loss.outage_to), len(starts)
        )
        starts[lines] = drawn[lines]
        return starts

    # -- one frame ----------------------------------------------------------------------------

    def observe(self, frame: CrowdFrame) -> list[dict[str, Any]]:
        """Every report the sensors send during the frame, in sensor order."""
        t, dt = frame.t_s, frame.dt_s
        at = (self.day_start + timedelta(seconds=t)).isoformat()
        reporting, statuses = self._availability(t, dt, at)
        values = self._line_values(frame, dt)
        values.update(self._view_values(frame, SensorKind.CAMERA, self.config.camera))
        if self._drones_fly(t, dt):
            values.update(self._view_values(frame, SensorKind.DRONE_STATION, self.config.drone))
        stamp = f"{self._tag}-{round(t * 1000):09d}"
        out: list[dict[str, Any]] = []
        for i, sensor_id in enumerate(self.sensor_ids):
            out += statuses.get(i, [])
            if not reporting[i] or i not in values:
                continue
            body = values[i]
            out.append(
                {"event_id": f"{stamp}-{body['kind']}", "sensor_id": sensor_id, "at": at, **body}
            )
        return out

    def _availability(
        self, t: float, dt: float, at: str
    ) -> tuple[npt.NDArray[np.bool_], dict[int, list[dict[str, Any]]]]:
        """Who reports this frame, and the status messages of spells starting or ending."""
        failures = self.config.failures
        n = len(self.sensor_ids)
        draw = self.rng.random((3, n))
        statuses: dict[int, list[dict[str, Any]]] = {}
        back = np.isfinite(self.offline_until) & (self.offline_until <= t)
        for i in np.flatnonzero(back).tolist():
            statuses[i] = [self._status(i, t, at, online=True)]
            self.offline_until[i] = -np.inf
        online = ~np.isfinite(self.offline_until)
        rate = failures.offline_per_day * dt / 86_400.0
        going = online & ~back & (draw[0] < rate)
        span = failures.offline_min_s + draw[1] * (failures.offline_max_s - failures.offline_min_s)
        for i in np.flatnonzero(going).tolist():
            statuses[i] = [self._status(i, t, at, online=False)]
            self.offline_until[i] = t + float(span[i])
        loss = self.config.loss
        if loss is not None:
            for i in np.flatnonzero(self._outage_due(t, dt)).tolist():
                if not np.isfinite(self.offline_until[i]):
                    statuses.setdefault(i, []).append(self._status(i, t, at, online=False))
                self.offline_until[i] = max(self.offline_until[i], t + loss.line_outage_s)
        reporting = ~np.isfinite(self.offline_until) & (draw[2] >= failures.dropout)
        if loss is not None:
            reporting &= self._loss_rng.random(n) >= loss.share
        return reporting, statuses

    def _outage_due(self, t: float, dt: float) -> npt.NDArray[np.bool_]:
        """The lines whose outage begins during the frame ending at t."""
        with np.errstate(invalid="ignore"):
            now = np.floor((t - self.outage_at) / 86_400.0)
            before = np.floor((t - dt - self.outage_at) / 86_400.0)
            return now > before

    def _status(self, i: int, t: float, at: str, *, online: bool) -> dict[str, Any]:
        word = "online" if online else "offline"
        return {
            "event_id": f"{self._tag}-{round(t * 1000):09d}-{word}",
            "sensor_id": self.sensor_ids[i],
            "at": at,
            "kind": "status",
            "online": online,
        }

    def _line_values(self, frame: CrowdFrame, dt: float) -> dict[int, dict[str, Any]]:
        lines = [
            i for i, k in enumerate(self.kinds) if k in (SensorKind.GATE, SensorKind.CHECKPOINT)
        ]
        idx = np.array(lines, dtype=np.int64)
        true = np.array(
            [[frame.gate_in.get(self.sensor_ids[i], 0), frame.gate_out.get(self.sensor_ids[i], 0)]
             for i in lines], dtype=np.int64,
        ).reshape(-1, 2)  # fmt: skip
        p = self.detect[idx][:, None]
        seen = self.rng.binomial(true, p) + self.rng.poisson(true * self.double[idx][:, None])
        return {
            i: {"kind": "crossing", "window_s": dt, "in": int(seen[k, 0]), "out": int(seen[k, 1])}
            for k, i in enumerate(lines)
        }

    def _view_values(
        self, frame: CrowdFrame, kind: SensorKind, noise: ViewNoise
    ) -> dict[int, dict[str, Any]]:
        views = self.cameras if kind == SensorKind.CAMERA else self.drones
        occupancy = frame.occupancy[views.area]
        uneven = self._uneven.get(kind)
        share = views.coverage if uneven is None else uneven.share(frame.t_s)
        in_view = self.rng.binomial(occupancy, share)
        density = occupancy / self.usable_m2[views.area]
        miss = np.minimum(noise.miss_max, noise.miss_base + noise.miss_per_density * density)
        seen = self.rng.binomial(in_view, 1.0 - miss).astype(np.float64)
        seen *= 1.0 + noise.noise * self.rng.standard_normal(len(seen))
        counts = np.maximum(np.rint(seen), 0).astype(np.int64)
        return {
            int(i): {"kind": "count", "count": int(c), "coverage": round(float(k), 6)}
            for i, c, k in zip(views.index, counts, views.coverage, strict=True)
        }

    def _drones_fly(self, t: float, dt: float) -> bool:
        """A sortie's count falls in this frame: daylight, and an interval boundary crossed."""
        interval = self.config.drone_flights.interval_s
        day_t = t % 86_400.0
        if not self._first_flight <= day_t <= self._last_flight:
            return False
        return math.floor(t / interval) > math.floor((t - dt) / interval)
