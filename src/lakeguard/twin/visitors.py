"""The visitor model: a day's visitors arriving, walking their itineraries and leaving.

Each visitor arrives at an entrance at a time drawn from the hourly arrival profile, picks
attractions one after another by gravity (``itinerary``), walks each leg along the
precomputed shortest path (``routes``) at a speed that falls with the density of the area
being walked through (Weidmann), stays a lognormal while at each stop, and walks to an exit
when the stops or the time budget run out. Nobody stays past midnight.

All visitors are simulated at once: the walkers are arrays (visitor, leg, distance along the
leg, time from which they walk this step), the visitors staying at attractions are arrays
(visitor, place, when they move on), and a step is a fixed number of numpy operations on
them, with time kept continuous within the step (a visitor who arrives 20 s before the step
ends walks 20 s).
"""

from __future__ import annotations

import numpy as np

from lakeguard.twin.config import VisitorConfig, clock_s, load_crowd_twin, twin_file
from lakeguard.twin.frame import CrowdFrame
from lakeguard.twin.itinerary import Chooser, hourly_weights, resolve_places
from lakeguard.twin.routes import (
    CELL_M,
    FloatArray,
    IntArray,
    build_legs,
    line_sensors,
    visitor_edges,
)
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.speed import weidmann_speed

DAY_S = 86_400.0
_EMPTY_I = np.empty(0, dtype=np.int64)
_EMPTY_F = np.empty(0, dtype=np.float64)


class VisitorModel:
    """The crowd's truth, one step at a time."""

    def __init__(
        self,
        scenario: Scenario,
        network: TravelNetwork,
        *,
        visitors: int,
        seed: int,
        config: VisitorConfig | None = None,
    ) -> None:
        if visitors < 0:
            raise ValueError("visitors must be zero or more")
        source = str(twin_file(scenario.source)) if scenario.source else "visitor config"
        if config is None:
            config = load_crowd_twin(twin_file(scenario.source)).visitors
        self.config = config
        self.area_ids: tuple[str, ...] = tuple(a.id for a in scenario.areas)
        self.t_s = 0.0
        self.visitor_steps = 0
        self.rng = np.random.default_rng(seed)
        usable = visitor_edges(network)
        self.lines = line_sensors(scenario, network, usable)
        self.places = resolve_places(config, scenario, network, usable, source)
        self.legs = build_legs(
            network,
            self.places.node,
            self.places.entrances,
            self.lines,
            config.itinerary.boat_cost_factor,
        )
        self.chooser = Chooser(config, self.places, self.legs)
        origin, dest = np.nonzero(self.legs.index >= 0)
        self.leg_dest = np.empty(len(self.legs.offset), dtype=np.int64)
        self.leg_dest[self.legs.index[origin, dest]] = dest
        n_areas = len(self.area_ids)
        # One slot past the areas holds walkers on paths outside every area.
        self.usable_m2 = np.array([a.usable_m2 for a in scenario.areas] + [np.inf])
        self.occupancy = np.zeros(n_areas + 1, dtype=np.int64)
        self.dwell_mu = np.log([a.dwell.median_min * 60.0 for a in config.attractions])
        self.dwell_sigma = np.array([a.dwell.sigma for a in config.attractions])
        self._draw_visitors(visitors)
        self._w_vid, self._w_leg, self._w_s, self._w_from = _EMPTY_I, _EMPTY_I, _EMPTY_F, _EMPTY_F
        self._d_vid, self._d_place, self._d_end = _EMPTY_I, _EMPTY_I, _EMPTY_F
        self._next_arrival = 0
        self.arrived_total = 0
        self.departed_total = 0

    # -- the day's visitors -----------------------------------------------------------------

    def _draw_visitors(self, count: int) -> None:
        """Arrival time, entrance, free walking speed and time budget of every visitor."""
        cfg, rng = self.config, self.rng
        route = cfg.itinerary
        per_hour = rng.multinomial(count, hourly_weights(cfg.arrivals))
        hour = np.repeat(np.arange(24), per_hour)
        # Within (h, h + 1 h]: a step covers (t - dt, t], so nobody arrives at the day's t = 0.
        self.arrival_s = np.sort(hour * 3600.0 + 3600.0 * (1.0 - rng.random(count)))
        self.home = rng.choice(self.places.entrances, size=count, p=self.chooser.share)
        speed = rng.normal(route.free_speed_mean, route.free_speed_sd, count)
        self.speed = np.maximum(speed, route.min_free_speed)
        stay = rng.lognormal(np.log(route.stay_median_min * 60.0), route.stay_sigma, count)
        # A common closing time would send the evening crowd out in one wave; people leave
        # over the last hours instead.
        latest = clock_s(route.last_leave) - rng.random(count) * route.leave_spread_min * 60.0
        self.deadline = np.maximum(np.minimum(self.arrival_s + stay, latest), self.arrival_s)
        self.stops_left = np.full(count, route.max_stops, dtype=np.int64)
        self.visited = np.zeros(count, dtype=np.int64)

    # -- stepping ---------------------------------------------------------------------------

    def step(self, dt_s: float = 60.0) -> CrowdFrame:
        """Advance the clock by ``dt_s`` and return the frame ending at the new time."""
        if dt_s <= 0:
            raise ValueError("dt_s must be positive")
        t1 = self.t_s + dt_s
        before = self.occupancy
        departed = self._start_legs(t1)
        arrived = self._arrivals_started
        crossings, finished = self._walk(t1)
        departed += self._finish_legs(finished)
        if t1 >= DAY_S:
            departed += self._close_day()
        walking = self._area_of_walkers()
        occupancy = np.bincount(walking, minlength=len(self.usable_m2))
        occupancy += np.bincount(
            self.places.area[self._d_place], minlength=len(self.usable_m2)
        ).astype(np.int64)
        self.occupancy = occupancy
        self.visitor_steps += len(self._w_vid) + len(self._d_vid) + len(finished[0])
        self.arrived_total += arrived
        self.departed_total += departed
        self.t_s = t1
        lines = self.lines.ids
        return CrowdFrame(
            t_s=t1,
            dt_s=dt_s,
            area_ids=self.area_ids,
            occupancy=occupancy[:-1].copy(),
            exposure_s=(before[:-1] + occupancy[:-1]).astype(np.float64) * (dt_s / 2.0),
            gate_in={s: int(crossings[i, 1]) for i, s in enumerate(lines)},
            gate_out={s: int(crossings[i, 0]) for i, s in enumerate(lines)},
            in_venue=self.arrived_total - self.departed_total,
            arrived=arrived,
            departed=departed,
            outside=int(occupancy[-1]),
        )

    def _start_legs(self, t1: float) -> int:
        """Visitors who arrive or finish a stay by ``t1`` set off; returns who left at once."""
        done = self._d_end <= t1
        vid = self._d_vid[done]
        place = self._d_place[done]
        start = self._d_end[done]
        keep = ~done
        self._d_vid, self._d_place, self._d_end = (
            self._d_vid[keep], self._d_place[keep], self._d_end[keep]
        )  # fmt: skip
        first = self._next_arrival
        last = int(np.searchsorted(self.arrival_s, t1, side="right"))
        self._next_arrival = last
        self._arrivals_started = last - first
        new = np.arange(first, last, dtype=np.int64)
        vid = np.concatenate([vid, new])
        place = np.concatenate([place, self.home[new]])
        start = np.concatenate([start, self.arrival_s[new]])
        dest = self._destinations(vid, place, start, t1)
        leg = self.legs.index[place, dest]
        moving = leg >= 0  # a visitor leaving by the entrance they stand at has no leg
        self._w_vid = np.concatenate([self._w_vid, vid[moving]])
        self._w_leg = np.concatenate([self._w_leg, leg[moving]])
        self._w_s = np.concatenate([self._w_s, np.zeros(int(moving.sum()))])
        self._w_from = np.concatenate([self._w_from, start[moving]])
        return int((~moving).sum())

    def _destinations(
        self, vid: IntArray, place: IntArray, start: FloatArray, t1: float
    ) -> IntArray:
        """The next place of each visitor setting off: an attraction, or an exit."""
        e = self.places.entrances
        dest = np.full(len(vid), -1, dtype=np.int64)
        going_on = (self.stops_left[vid] > 0) & (start < self.deadline[vid])
        on = vid[going_on]
        budget = (self.deadline[on] - start[going_on]) * self.speed[on]
        hour = int(t1 // 3600.0)
        stop = self.chooser.next_stops(place[going_on], hour, self.visited[on], budget, self.rng)
        chosen = stop >= 0
        self.stops_left[on[chosen]] -= 1
        self.visited[on[chosen]] |= np.int64(1) << stop[chosen]
        dest[np.flatnonzero(going_on)[chosen]] = e + stop[chosen]
        leaving = dest < 0
        dest[leaving] = self.chooser.exits(place[leaving], self.home[vid[leaving]], self.rng)
        return dest

    def _walk(self, t1: float) -> tuple[IntArray, tuple[IntArray, IntArray, FloatArray]]:
        """Move every walker; returns crossings (line, in?) and the walkers who arrived."""
        legs = self.legs
        vid, leg, s = self._w_vid, self._w_leg, self._w_s
        cell = legs.offset[leg] + (s / CELL_M).astype(np.int64)
        area = legs.cell_area[cell]
        density = self.occupancy / self.usable_m2
        factor = weidmann_speed(density, 1.0)
        speed = np.where(
            legs.cell_boat[cell], self.config.itinerary.boat_speed, self.speed[vid] * factor[area]
        )
        s_new = s + speed * (t1 - self._w_from)
        length = legs.length_m[leg]
        end = np.minimum(s_new, length)
        cell_new = legs.offset[leg] + (end / CELL_M).astype(np.int64)
        ahead = legs.cell_area[cell_new]
        # Nobody pushes into an area packed beyond the density at which a moving crowd turns
        # unstable: they wait at the end of the cell they are in (a queue at its edge). From
        # one packed area into another they creep on, or two jams would lock each other.
        hold = self.config.itinerary.hold_density
        held = (ahead != area) & (density[ahead] >= hold) & (density[area] < hold)
        if held.any():
            wait = (np.floor(s[held] / CELL_M) + 1.0) * CELL_M - 1e-6
            end[held] = np.minimum(end[held], wait)
            s_new[held] = end[held]
            cell_new[held] = legs.offset[leg[held]] + (end[held] / CELL_M).astype(np.int64)
        finished = s_new >= length
        crossings = self._crossings(cell, cell_new)
        arrive_at = t1 - (s_new[finished] - length[finished]) / speed[finished]
        done = (vid[finished], leg[finished], arrive_at)
        walking = ~finished
        self._w_vid, self._w_leg, self._w_s = vid[walking], leg[walking], end[walking]
        self._w_from = np.full(len(self._w_vid), t1)
        return crossings, done

    def _crossings(self, cell: IntArray, cell_new: IntArray) -> IntArray:
        """Counting-line crossings between each walker's old and new cell: (lines, 2)."""
        legs = self.legs
        first = legs.cross_start[cell + 1].astype(np.int64)
        count = legs.cross_start[cell_new + 1] - first
        moved = count > 0
        counts = count[moved]
        starts = np.repeat(first[moved] - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        index = starts + np.arange(int(counts.sum()))
        slot = legs.cross_line[index].astype(np.int64) * 2 + legs.cross_inward[index]
        return np.bincount(slot, minlength=2 * len(self.lines.ids)).reshape(-1, 2)

    def _finish_legs(self, finished: tuple[IntArray, IntArray, FloatArray]) -> int:
        """Walkers at the end of their leg start a stay, or leave by their exit."""
        vid, leg, at = finished
        dest = self.leg_dest[leg]
        staying = dest >= self.places.entrances
        vid, dest, at = vid[staying], dest[staying], at[staying]
        stop = dest - self.places.entrances
        dwell = np.exp(
            self.dwell_mu[stop] + self.dwell_sigma[stop] * self.rng.normal(size=len(vid))
        )
        end = np.maximum(np.minimum(at + dwell, self.deadline[vid]), at)
        self._d_vid = np.concatenate([self._d_vid, vid])
        self._d_place = np.concatenate([self._d_place, dest])
        self._d_end = np.concatenate([self._d_end, end])
        return int((~staying).sum())

    def _close_day(self) -> int:
        """At midnight whoever is still about is counted out (the venue closes)."""
        left = len(self._w_vid) + len(self._d_vid)
        self._w_vid, self._w_leg, self._w_s, self._w_from = _EMPTY_I, _EMPTY_I, _EMPTY_F, _EMPTY_F
        self._d_vid, self._d_place, self._d_end = _EMPTY_I, _EMPTY_I, _EMPTY_F
        return left

    def _area_of_walkers(self) -> IntArray:
        return self.area_at(self._w_leg, self._w_s)

    # -- views for tests and the benchmark ----------------------------------------------------

    def walkers(self) -> tuple[IntArray, IntArray, FloatArray]:
        """Copies of the walkers' visitor numbers, legs and metres along their legs."""
        return self._w_vid.copy(), self._w_leg.copy(), self._w_s.copy()

    def area_at(self, leg: IntArray, metres: FloatArray) -> IntArray:
        """Area index at positions along legs; ``len(area_ids)`` off every area."""
        cell = self.legs.offset[leg] + (metres / CELL_M).astype(np.int64)
        return self.legs.cell_area[cell].astype(np.int64)

    @property
    def walking(self) -> int:
        """Visitors on a leg now."""
        return len(self._w_vid)

    @property
    def staying(self) -> int:
        """Visitors staying at an attraction now."""
        return len(self._d_vid)
