"""Benchmark: one update of every area's estimate, venue-wide filter against per-area filter.

A minute of West Lake data is one reading from every camera and drone station and one
crossing report from every counting line; the venue-wide estimator folds them in (crossings
through the incidence matrix, readings as one batch) and carries all 42 areas and their
unseen flows forward a minute. The frozen per-area filter of ``bench.baseline_occupancy``
takes the same reports one by one. Both then give every area's estimate.

    python -m bench.estimate_step [--minutes 2000]

Prints a small table and a last line of JSON: ``ms_per_update`` (the venue-wide filter),
``baseline_ms_per_update`` and their ratio. Timings on a shared machine are noisy: compare the
two of the same run.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.baseline_occupancy import OccupancyEngine as BaselineEngine
from lakeguard.config import bundled_scenario
from lakeguard.crowd.estimator import VenueEstimator
from lakeguard.ingest.schema import Observation, parse_observations
from lakeguard.venue.loader import Scenario, load_scenario
from lakeguard.venue.schema import SensorKind

T0 = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)  # 10:00 in Hangzhou


def minute_of_reports(scenario: Scenario, minute: int) -> list[Observation]:
    """Every sensor's report for one minute: a crossing per line, a count per view."""
    at = (T0 + timedelta(minutes=minute)).isoformat()
    reports: list[dict[str, Any]] = []
    for sensor in scenario.sensors:
        base = {"event_id": f"{minute}", "sensor_id": sensor.id, "at": at}
        if sensor.kind in (SensorKind.GATE, SensorKind.CHECKPOINT):
            flow = 20 + minute % 7
            reports.append({**base, "kind": "crossing", "window_s": 60, "in": flow, "out": 18})
        else:
            reports.append({**base, "kind": "count", "count": 300 + minute % 11, "coverage": 0.3})
    return parse_observations(reports)


def time_engine(engine: Any, scenario: Scenario, minutes: list[list[Observation]]) -> float:
    """Mean milliseconds to fold a minute in and estimate every area."""
    areas = [a.id for a in scenario.areas]
    start = time.perf_counter()
    for minute, reports in enumerate(minutes):
        for report in reports:
            engine.apply(report)
        now = (T0 + timedelta(minutes=minute)).timestamp()
        for area in areas:
            engine.estimate(area, now)
    return (time.perf_counter() - start) / len(minutes) * 1000.0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.estimate_step", description=__doc__)
    parser.add_argument("--minutes", type=int, default=2000)
    args = parser.parse_args(argv)
    scenario = load_scenario(bundled_scenario())
    minutes = [minute_of_reports(scenario, m) for m in range(args.minutes)]
    ours = time_engine(VenueEstimator(scenario), scenario, minutes)
    theirs = time_engine(BaselineEngine(scenario), scenario, minutes)
    table = Table(title=f"One minute of every sensor, {len(scenario.areas)} areas estimated")
    for name in ("estimator", "ms per update"):
        table.add_column(name)
    table.add_row("venue-wide", f"{ours:.3f}")
    table.add_row("per-area (baseline)", f"{theirs:.3f}")
    Console().print(table)
    figures = {
        "areas": len(scenario.areas),
        "reports_per_update": len(minutes[0]),
        "minutes": args.minutes,
        "ms_per_update": round(ours, 3),
        "baseline_ms_per_update": round(theirs, 3),
        "ratio": round(ours / theirs, 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
