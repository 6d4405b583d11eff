"""Benchmark: a whole West Lake day of the twin's engines: visitors, sensors, incidents, units.

800,000 visitors (the busiest day, ``westlake.md``) arrive, walk their itineraries and leave;
every minute all 53 sensors report what they see, incidents arise from the crowd's exposure,
and the 2,000 units of the model deployment patrol, report positions, travel to incidents and
back. No HTTP, no database: this is the part of the twin that has to be fast for a day to
play in a minute. Without the platform to choose units, each incident here is given the
nearest idle unit that can travel to it (straight-line distance), which exercises the same
routing and movement a dispatched unit goes through.

Baseline, same run: the same stepping (same legs, cells, crossings, choices and Weidmann
speeds) written as a plain per-visitor Python loop, over the state of a smaller day at 10:00
for one hour; the vectorised model steps the very same state through the same hour, and the
ratio of their visitor-steps per second is reported.

The calibration figures are printed beside the run: the Broken Bridge's crossings per minute
(the mean of its two counting lines' in + out), Hubin's peak count and each hotspot's peak
occupancy over capacity with the local time it occurred (docs/twin.md).

    python -m bench.twin [--visitors 800000] [--seed 1] [--baseline-visitors 25000]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from rich.console import Console
from rich.table import Table

from lakeguard.config import bundled_scenario
from lakeguard.twin.frame import CrowdFrame
from lakeguard.twin.routes import CELL_M
from lakeguard.twin.sensors import SensorModel
from lakeguard.twin.visitors import VisitorModel
from lakeguard.venue.checks import build_network
from lakeguard.venue.loader import Scenario, load_scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.speed import weidmann_speed

DAY_S = 86_400.0
BRIDGE_LINES = ("gate-broken-bridge-north", "gate-broken-bridge-south")
StepCallback = Callable[[CrowdFrame, list[dict[str, Any]]], None]


@dataclass
class DayResult:
    """What one played day measured."""

    wall_s: float = 0.0
    setup_s: float = 0.0
    visitor_steps: int = 0
    observations: int = 0
    peak_in_venue: int = 0
    occupancy: list[np.ndarray] = field(default_factory=list)
    bridge_per_min: list[float] = field(default_factory=list)


def run_day(
    scenario: Scenario,
    network: TravelNetwork,
    *,
    visitors: int,
    seed: int,
    step_s: float = 60.0,
    callbacks: Sequence[StepCallback] = (),
) -> DayResult:
    """Play one day of visitors and sensors; each callback gets every frame and its reports."""
    result = DayResult()
    start = time.perf_counter()
    midnight = datetime(2024, 5, 1, tzinfo=ZoneInfo(scenario.config.timezone))
    model = VisitorModel(scenario, network, visitors=visitors, seed=seed)
    sensors = SensorModel(scenario, seed=seed, day_start=midnight)
    result.setup_s = time.perf_counter() - start
    for _ in range(round(DAY_S / step_s)):
        frame = model.step(step_s)
        observations = sensors.observe(frame)
        for callback in callbacks:
            callback(frame, observations)
        result.observations += len(observations)
        result.peak_in_venue = max(result.peak_in_venue, frame.in_venue)
        result.occupancy.append(frame.occupancy)
        crossed = sum(frame.gate_in[g] + frame.gate_out[g] for g in BRIDGE_LINES)
        result.bridge_per_min.append(crossed / 2 * 60.0 / step_s)
    result.wall_s = time.perf_counter() - start
    result.visitor_steps = model.visitor_steps
    return result


def calibration(scenario: Scenario, day: DayResult, step_s: float = 60.0) -> dict[str, Any]:
    """Peak figures of the day beside which docs/twin.md puts the public ones."""
    occupancy = np.array(day.occupancy)
    ids = [a.id for a in scenario.areas]

    def clock(index: int) -> str:
        minutes = round((index + 1) * step_s / 60.0)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    hotspots = {}
    for i, area in enumerate(scenario.areas):
        if area.kind != "hotspot" or not area.capacity:
            continue
        ratio = occupancy[:, i] / area.capacity
        peak = int(np.argmax(ratio))
        alert_hours = sorted({int((k + 1) * step_s // 3600) for k in np.flatnonzero(ratio >= 0.8)})
        hotspots[area.id] = {
            "peak_ratio": round(float(ratio[peak]), 3),
            "at": clock(peak),
            "hours_at_or_above_80pct": alert_hours,
        }
    hubin = occupancy[:, ids.index("hubin-lakeside")]
    bridge = np.array(day.bridge_per_min)
    return {
        "broken_bridge_crossings_per_min_peak": round(float(bridge.max()), 1),
        "broken_bridge_crossings_peak_at": clock(int(np.argmax(bridge))),
        "hubin_peak_count": int(hubin.max()),
        "hubin_peak_at": clock(int(np.argmax(hubin))),
        "peak_in_venue": day.peak_in_venue,
        "hotspots": hotspots,
    }


class PlainLoop:
    """The visitor model's step as a per-visitor Python loop, on a copy of a model's state."""

    def __init__(self, model: VisitorModel, seed: int) -> None:
        self.m = model
        self.random = random.Random(seed)
        legs = model.legs
        self.offset = legs.offset.tolist()
        self.length = legs.length_m.tolist()
        self.cell_area = legs.cell_area.tolist()
        self.cell_boat = legs.cell_boat.tolist()
        self.cross_start = legs.cross_start.tolist()
        self.cross_line = legs.cross_line.tolist()
        self.cross_inward = legs.cross_inward.tolist()
        self.leg_index = legs.index.tolist()
        self.leg_dest = model.leg_dest.tolist()
        self.reach = model.chooser.reach.tolist()
        self.popularity = model.chooser.popularity.tolist()
        self.exit_weight = model.chooser.exit_weight.tolist()
        self.place_area = model.places.area.tolist()
        self.usable = model.usable_m2.tolist()
        self.speed = model.speed.tolist()
        self.deadline = model.deadline.tolist()
        self.home = model.home.tolist()
        self.arrival = model.arrival_s.tolist()
        vid, leg, s = model.walkers()
        self.walkers = [
            [v, g, x, model.t_s]
            for v, g, x in zip(vid.tolist(), leg.tolist(), s.tolist(), strict=True)
        ]
        staying = (model._d_vid.tolist(), model._d_place.tolist(), model._d_end.tolist())
        self.dwellers: list[tuple[int, int, float]] = list(zip(*staying, strict=True))
        self.occupancy = model.occupancy.tolist()
        self.next_arrival = model._next_arrival
        self.t = model.t_s
        self.steps = 0

    def step(self, dt: float) -> None:
        t1 = self.t + dt
        factor = [
            float(weidmann_speed(o / u, 1.0)) if u != float("inf") else 1.0
            for o, u in zip(self.occupancy, self.usable, strict=True)
        ]
        still = []
        for visitor, place, end in self.dwellers:
            if end <= t1:
                self._set_off(visitor, place, end)
            else:
                still.append((visitor, place, end))
        self.dwellers = still
        while self.next_arrival < len(self.arrival) and self.arrival[self.next_arrival] <= t1:
            v = self.next_arrival
            self._set_off(v, self.home[v], self.arrival[v])
            self.next_arrival += 1
        crossings = [[0, 0] for _ in self.m.lines.ids]
        occupancy = [0] * len(self.occupancy)
        walking = []
        for walker in self.walkers:
            visitor, leg, s, since = walker
            cell = self.offset[leg] + int(s / CELL_M)
            area = self.cell_area[cell]
            speed = 2.5 if self.cell_boat[cell] else self.speed[visitor] * factor[area]
            s_new = s + speed * (t1 - since)
            end = min(s_new, self.length[leg])
            cell_new = self.offset[leg] + int(end / CELL_M)
            for c in range(self.cross_start[cell + 1], self.cross_start[cell_new + 1]):
                crossings[self.cross_line[c]][self.cross_inward[c]] += 1
            if s_new >= self.length[leg]:
                dest = self.leg_dest[leg]
                if dest >= self.m.places.entrances:
                    stay = self.random.lognormvariate(3.5, 0.5) * 60.0
                    self.dwellers.append((visitor, dest, min(t1 + stay, self.deadline[visitor])))
            else:
                walking.append([visitor, leg, end, t1])
                occupancy[self.cell_area[cell_new]] += 1
        for _, place, _ in self.dwellers:
            occupancy[self.place_area[place]] += 1
        self.steps += len(self.walkers) + len(self.dwellers)
        self.walkers, self.occupancy, self.t = walking, occupancy, t1

    def _set_off(self, visitor: int, place: int, since: float) -> None:
        hour = int(since // 3600) % 24
        weights = [r * p for r, p in zip(self.reach[place], self.popularity[hour], strict=True)]
        dest = -1
        if since < self.deadline[visitor] and sum(weights) > 0:
            dest = self.m.places.entrances + self._pick(weights)
        if dest < 0:
            dest = self._pick(self.exit_weight[place])
        leg = self.leg_index[place][dest]
        if leg >= 0:
            self.walkers.append([visitor, leg, 0.0, since])

    def _pick(self, weights: list[float]) -> int:
        u = self.random.random() * sum(weights)
        for i, w in enumerate(weights):
            u -= w
            if u < 0:
                return i
        return len(weights) - 1


def baseline(
    scenario: Scenario, network: TravelNetwork, *, visitors: int, seed: int
) -> dict[str, float]:
    """Both steppings over the same state: a smaller day's 10:00 to 11:00."""
    model = VisitorModel(scenario, network, visitors=visitors, seed=seed)
    for _ in range(10 * 60):
        model.step(60.0)
    plain = PlainLoop(copy.deepcopy(model), seed)
    start = time.perf_counter()
    for _ in range(60):
        plain.step(60.0)
    plain_s = time.perf_counter() - start
    steps_before = model.visitor_steps
    start = time.perf_counter()
    for _ in range(60):
        model.step(60.0)
    ours_s = time.perf_counter() - start
    plain_rate = plain.steps / plain_s
    ours_rate = (model.visitor_steps - steps_before) / ours_s
    return {
        "in_venue_at_10": float(len(plain.walkers) + len(plain.dwellers)),
        "plain_visitor_steps_per_s": round(plain_rate),
        "vectorised_visitor_steps_per_s": round(ours_rate),
        "ratio": round(ours_rate / plain_rate, 1),
    }


class IncidentsAndUnits:
    """The incident and unit engines, stepped in the timed loop after the crowd."""

    def __init__(self, scenario: Scenario, network: TravelNetwork, seed: int) -> None:
        from lakeguard.forces.deployment import westlake_deployment
        from lakeguard.twin.incidents import IncidentModel
        from lakeguard.twin.units import TwinUnit, UnitModel

        specs = westlake_deployment(scenario, np.random.default_rng(seed), network=network)
        units = [
            TwinUnit(s.id, f"tracker-{s.id}", s.kind.value, s.mode.value, s.home_post, s.lon, s.lat)
            for s in specs
        ]
        self.incidents = IncidentModel(scenario, network, seed=seed)
        self.units = UnitModel(
            scenario, network, units, seed=seed, slower={"security_guard": 6.0},
            travelling_every_s=60, moving_every_s=600, standing_every_s=3600,
        )  # fmt: skip
        self.ids = [u.unit_id for u in units]
        self.xy = network.to_xy([[u.lon, u.lat] for u in units])
        self.network = network
        self.calls = self.dispatches = self.unreachable = self.fixes = self.progress = 0
        self.seconds = 0.0

    def __call__(self, frame: CrowdFrame, observations: list[dict[str, Any]]) -> None:
        from lakeguard.twin.paths import Unreachable

        start = time.perf_counter()
        for call in self.incidents.step(frame):
            self.calls += 1
            lon, lat = (call.lon, call.lat) if call.lon is not None else self._centre(call.area_id)
            scene = self.network.to_xy([[lon, lat]])[0]
            for k in np.argsort(np.hypot(*(self.xy - scene).T))[:20]:
                if self.units.busy(self.ids[k], call.t_s):
                    continue
                try:
                    self.units.dispatch(self.ids[k], call.seq, call.t_s, lon, lat, call.handling_s)
                except Unreachable:
                    self.unreachable += 1
                    continue
                self.dispatches += 1
                break
        self.progress += len(self.units.due(frame.t_s))
        self.fixes += len(self.units.advance(frame.t_s))
        self.seconds += time.perf_counter() - start

    def _centre(self, area_id: str) -> tuple[float, float]:
        point = self.incidents.areas[
            self.incidents.area_ids.index(area_id)
        ].shape.representative_point()
        return float(point.x), float(point.y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=800_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-visitors", type=int, default=25_000)
    args = parser.parse_args()
    scenario = load_scenario(bundled_scenario())
    network = build_network(scenario.network, scenario.config, scenario.areas)
    others = IncidentsAndUnits(scenario, network, args.seed)
    day = run_day(scenario, network, visitors=args.visitors, seed=args.seed, callbacks=[others])
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = calibration(scenario, day)
    base = baseline(scenario, network, visitors=args.baseline_visitors, seed=args.seed)
    rate = day.visitor_steps / day.wall_s
    bridge_peak = figures["broken_bridge_crossings_per_min_peak"]
    console = Console()
    table = Table(title=f"Twin: one day of {args.visitors:,} visitors (engines only)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in (
        ("wall time", f"{day.wall_s:.1f} s (set-up {day.setup_s:.1f} s)"),
        ("simulated seconds per wall second", f"{DAY_S / day.wall_s:,.0f}"),
        ("visitor-steps per second", f"{rate:,.0f}"),
        ("plain loop, visitor-steps per second", f"{base['plain_visitor_steps_per_s']:,.0f}"),
        ("speed-up over the plain loop (same hour)", f"{base['ratio']:.0f}×"),
        ("of which incidents and units", f"{others.seconds:.1f} s"),
        ("observations", f"{day.observations:,}"),
        ("incidents, dispatches", f"{others.calls:,}, {others.dispatches:,}"),
        ("unit positions, progress reports", f"{others.fixes:,}, {others.progress:,}"),
        ("peak RSS", f"{peak_rss_mb:,.0f} MB"),
        ("peak in the venue", f"{day.peak_in_venue:,}"),
        ("Broken Bridge crossings a minute", f"{bridge_peak:.0f}"),
        ("Hubin peak count", f"{figures['hubin_peak_count']:,} at {figures['hubin_peak_at']}"),
    ):  # fmt: skip
        table.add_row(name, value)
    for area, spot in figures["hotspots"].items():
        table.add_row(f"  {area}", f"{spot['peak_ratio']:.0%} at {spot['at']}")
    console.print(table)
    print(
        json.dumps(
            {
                "visitors": args.visitors,
                "seed": args.seed,
                "wall_s": round(day.wall_s, 2),
                "setup_s": round(day.setup_s, 2),
                "realtime_factor": round(DAY_S / day.wall_s, 1),
                "peak_rss_mb": round(peak_rss_mb, 1),
                "visitor_steps": day.visitor_steps,
                "visitor_steps_per_s": round(rate),
                "observations": day.observations,
                "incidents_and_units_s": round(others.seconds, 2),
                "incidents": others.calls,
                "dispatches": others.dispatches,
                "unreachable": others.unreachable,
                "unit_positions": others.fixes,
                "progress_reports": others.progress,
                "target_met": day.wall_s <= 60 and peak_rss_mb <= 4000,
                "calibration": figures,
                "baseline": base,
            }
        )
    )


if __name__ == "__main__":
    main()
