"""Units on patrol and on call: where each is, what its tracker reports, how it responds.

Units at a point post stand there; units on a segment post go back and forth along a beat,
the shortest line on their mode's network through the post's vertices; units without a post
roam a short beat from where they start; drones stand at their base until sent. A dispatched
unit turns out, travels along the shortest path of its mode from where it truly is (walkers
slowed by the crowd given at dispatch), stays on scene for the handling time, then returns to
where it left its post at patrol pace and resumes. Patrol positions are a closed formula of
time, so moving two thousand units to a new time is a handful of array operations.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lakeguard.twin.beats import Beats
from lakeguard.twin.frame import FloatArray
from lakeguard.twin.incident_config import IncidentConfig, UnitSettings
from lakeguard.twin.paths import Router
from lakeguard.twin.trips import DispatchPlan, Trip, plan_trip
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import Mode

STATUSES = ("acknowledged", "on_scene", "resolved")


@dataclass(frozen=True)
class TwinUnit:
    """A unit as the roster lists it, reduced to what moving it needs."""

    unit_id: str
    device_id: str | None
    kind: str  # officer, auxiliary, plainclothes, security_guard, team, patrol_car, boat, drone
    mode: str  # walk | vehicle | boat | drone
    home_post: str | None
    lon: float
    lat: float


@dataclass(frozen=True)
class PositionFix:
    """One report from a unit's tracker."""

    unit_id: str
    device_id: str | None
    t_s: float
    lon: float
    lat: float
    speed_ms: float
    bearing_deg: float | None


@dataclass(frozen=True)
class Progress:
    """A unit's step on an incident, as its officer would press it on the phone."""

    unit_id: str
    incident_id: int
    t_s: float
    status: str  # "acknowledged" | "on_scene" | "resolved"


class UnitBusy(ValueError):
    """The unit is already on an incident that is not resolved."""


_Rows = tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]


class UnitModel:
    """Every unit of a venue day, moved by the twin's clock."""

    def __init__(
        self,
        scenario: Scenario,
        network: TravelNetwork,
        units: Sequence[TwinUnit],
        *,
        seed: int,
        travelling_every_s: float = 30,
        moving_every_s: float = 300,
        standing_every_s: float = 1800,
        slower: Mapping[str, float] | None = None,
        settings: UnitSettings | None = None,
    ) -> None:
        """``slower`` stretches the patrol and standing intervals of some kinds of unit (guards'
        phones report less often than police trackers); dispatched units report as others."""
        if min(travelling_every_s, moving_every_s, standing_every_s) <= 0:
            raise ValueError("report intervals must be positive")
        self.settings = settings or IncidentConfig.for_scenario(scenario.source).units
        self.network = network
        self.router = Router(network)
        self.rng = np.random.default_rng(seed)
        self.units = tuple(units)
        self.index = {u.unit_id: i for i, u in enumerate(self.units)}
        if len(self.index) != len(self.units):
            raise ValueError("unit ids must be unique")
        self.modes = [Mode(u.mode) for u in self.units]
        self.every = np.array([travelling_every_s, moving_every_s, standing_every_s])
        n = len(self.units)
        factor = np.array([(slower or {}).get(u.kind, 1.0) for u in self.units], dtype=np.float64)
        if (factor <= 0).any():
            raise ValueError("report interval factors must be positive")
        self.stretch = np.column_stack([np.ones(n), factor, factor]) if n else np.ones((0, 3))
        lonlat = np.array([[u.lon, u.lat] for u in self.units], dtype=np.float64).reshape(n, 2)
        home_xy = network.to_xy(lonlat) if n else np.empty((0, 2))
        speed = np.array([self.patrol_speed(m) for m in self.modes], dtype=np.float64)
        posts = [u.home_post for u in self.units]
        radius = self.settings.roam_radius_m
        self.beats = Beats(
            self.router, scenario.posts, posts, self.modes, home_xy, speed, radius, self.rng
        )
        # Trackers are switched on at random moments: reports spread over each interval.
        first = np.where(self.beats.on_beat(np.arange(n)), moving_every_s, standing_every_s)
        first = first * factor
        self.next_fix = self.rng.uniform(0.0, 1.0, n) * first
        self.trips: dict[int, Trip] = {}
        self._in_trip = np.zeros(n, dtype=bool)
        self._plans: dict[int, DispatchPlan] = {}  # each unit's latest, kept after it ends
        self._events: list[tuple[float, int, str, int, Trip]] = []
        self._now = 0.0

    # -- moving everyone -------------------------------------------------------------------

    def advance(self, t_s: float) -> list[PositionFix]:
        """Move everyone to ``t_s``: the fixes due since the last call, sorted by time."""
        if t_s < self._now:
            raise ValueError(f"time runs forward: {t_s} is before {self._now}")
        rows: list[_Rows] = []
        while True:
            due = np.flatnonzero(self.next_fix <= t_s)
            if not len(due):
                break
            times = self.next_fix[due].copy()
            xy, speed, bearing, state = self._states(due, times)
            standing = state == 2
            xy[standing] += self.rng.normal(0.0, self.settings.jitter_m, (int(standing.sum()), 2))
            self.next_fix[due] = times + self.every[state] * self.stretch[due, state]
            rows.append((due.astype(np.float64), times, xy, speed, bearing))
        self._now = t_s
        for i in [i for i, trip in self.trips.items() if trip.home_s <= t_s]:
            del self.trips[i]
            self._in_trip[i] = False
        return self._fixes(rows)

    def _fixes(self, rows: list[_Rows]) -> list[PositionFix]:
        if not rows:
            return []
        unit, times, xy, speed, bearing = (np.concatenate(part) for part in zip(*rows, strict=True))
        lon, lat = self.network.projection.to_lonlat(xy[:, 0], xy[:, 1])
        order = np.lexsort((unit, times))
        bearings = np.round(bearing[order], 1)
        return [
            PositionFix(u.unit_id, u.device_id, t, x, y, v, None if math.isnan(b) else b)
            for u, t, x, y, v, b in zip(
                [self.units[k] for k in unit[order].astype(np.int64).tolist()],
                times[order].tolist(),
                np.round(np.asarray(lon)[order], 7).tolist(),
                np.round(np.asarray(lat)[order], 7).tolist(),
                np.round(speed[order], 2).tolist(),
                bearings.tolist(),
                strict=True,
            )
        ]

    def _states(
        self, idx: np.ndarray, times: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, np.ndarray]:
        """True position, speed, bearing (nan: none) and state per (unit, time).

        State 0 is on a dispatch, 1 on a beat, 2 standing: it picks the report interval.
        """
        xy, speed, bearing = self.beats.positions(idx, times)
        state = np.where(self.beats.on_beat(idx), 1, 2)
        for k in np.flatnonzero(self._in_trip[idx]):
            trip, t = self.trips[int(idx[k])], float(times[k])
            if t >= trip.home_s:
                continue  # back on the post: the beat already runs from the rejoining point
            first = trip.previous or trip
            if t >= first.dispatched_s:
                xy[k], speed[k], bearing[k] = trip.state(t)
                state[k] = 0
            elif trip.prior_s0 is not None:
                before = self.beats.positions(idx[k : k + 1], times[k : k + 1], trip.prior_s0)
                xy[k], speed[k], bearing[k] = before[0][0], before[1][0], before[2][0]
        return xy, speed, bearing, state

    def position(self, unit_id: str, t_s: float) -> tuple[float, float]:
        """Where a unit truly is at ``t_s`` (lon, lat), given the dispatches made so far."""
        xy = self._true_xy(self._unit(unit_id), t_s)
        lon, lat = self.network.projection.to_lonlat(float(xy[0]), float(xy[1]))
        return float(lon), float(lat)

    # -- dispatch --------------------------------------------------------------------------

    def dispatch(
        self,
        unit_id: str,
        incident_id: int,
        t_s: float,
        lon: float,
        lat: float,
        handling_s: float,
        densities: Mapping[str, float] | None = None,
    ) -> float:
        """Send a unit to a scene; returns the planned on-scene time.

        Raises :class:`UnitBusy` if the unit is on an unresolved incident, and
        :class:`~lakeguard.twin.paths.Unreachable` if its network does not reach the scene.
        """
        i = self._unit(unit_id)
        previous = self.trips.get(i)
        if previous is not None and t_s < previous.dispatched_s:
            raise ValueError(f"unit {unit_id} was dispatched later, at {previous.dispatched_s} s")
        if self.busy(unit_id, t_s):
            assert previous is not None
            raise UnitBusy(
                f"unit {unit_id} is on incident {previous.incident_id} until "
                f"{previous.resolve_s:.0f} s; release it first"
            )
        start = self._true_xy(i, t_s)
        if previous is not None and t_s < previous.home_s:
            anchor, prior_s0 = previous.anchor, previous.prior_s0  # on its way back: same post
        else:
            anchor, prior_s0, previous = self.beats.anchor(i, t_s), self.beats.phase(i), None
        scene = self.network.to_xy([[lon, lat]])[0]
        trip = plan_trip(self, i, incident_id, t_s, start, scene, handling_s, densities,
                         anchor, prior_s0, previous)  # fmt: skip
        self.trips[i] = trip
        self._plans[i] = trip.plan
        self._in_trip[i] = True
        self.beats.resume(i, anchor, trip.home_s)
        # A tracker reports when its unit sets off, then every travelling interval.
        self.next_fix[i] = min(self.next_fix[i], max(trip.ack_s, self._now))
        for rank, when in enumerate((trip.ack_s, trip.arrive_s, trip.resolve_s)):
            heapq.heappush(self._events, (when, rank, unit_id, incident_id, trip))
        return trip.arrive_s

    def release(self, unit_id: str, t_s: float) -> None:
        """Stand a unit down (the incident was cancelled): it goes back to its post from here."""
        i = self._unit(unit_id)
        trip = self.trips.get(i)
        if trip is None or trip.released_s is not None or t_s >= trip.resolve_s:
            raise ValueError(f"unit {unit_id} is not on an unresolved dispatch at {t_s:.0f} s")
        if t_s < trip.dispatched_s:
            raise ValueError(f"unit {unit_id} was dispatched at {trip.dispatched_s:.0f} s")
        trip.release(self, t_s)
        self.beats.resume(i, trip.anchor, trip.home_s)

    def due(self, until_s: float) -> list[Progress]:
        """Progress events with ``t_s <= until_s`` not yet returned, sorted by time."""
        out = []
        while self._events and self._events[0][0] <= until_s:
            when, rank, unit_id, incident_id, trip = heapq.heappop(self._events)
            if trip.released_s is not None and when > trip.released_s:
                continue  # stood down before it happened
            out.append(Progress(unit_id, incident_id, when, STATUSES[rank]))
        return out

    def busy(self, unit_id: str, t_s: float | None = None) -> bool:
        """Whether the unit is on an unresolved incident at ``t_s`` (default: the last advance)."""
        trip = self.trips.get(self._unit(unit_id))
        when = self._now if t_s is None else t_s
        return trip is not None and trip.released_s is None and when < trip.resolve_s

    def arrival_s(self, unit_id: str) -> float:
        """The planned on-scene time of the unit's latest dispatch."""
        return self.plan(unit_id).on_scene_s

    def plan(self, unit_id: str) -> DispatchPlan:
        """The unit's latest dispatch: from where, turnout, travel and the free-flow bound."""
        plan = self._plans.get(self._unit(unit_id))
        if plan is None:
            raise LookupError(f"unit {unit_id} has not been dispatched")
        return plan

    # -- helpers ---------------------------------------------------------------------------

    def _unit(self, unit_id: str) -> int:
        try:
            return self.index[unit_id]
        except KeyError:
            raise LookupError(f"no unit {unit_id!r} in the twin") from None

    def _true_xy(self, i: int, t_s: float) -> FloatArray:
        xy, _, _, _ = self._states(np.array([i]), np.array([float(t_s)]))
        return np.asarray(xy[0], dtype=np.float64)

    def turnout_s(self, i: int) -> float:
        """A draw of unit ``i``'s turnout; drones take exactly the venue's launch time."""
        if self.modes[i] == Mode.DRONE:
            return float(self.network.speeds.drone_launch_s)
        s = self.settings
        median = s.turnout_s.get(self.units[i].kind, s.default_turnout_s)
        return float(median * self.rng.uniform(1 - s.turnout_spread, 1 + s.turnout_spread))

    def patrol_speed(self, mode: Mode) -> float:
        """The unhurried pace of a mode (drones fly at cruise speed)."""
        if mode == Mode.DRONE:
            return float(self.network.speeds.drone)
        return float(getattr(self.settings.patrol_speed_ms, mode.value))
