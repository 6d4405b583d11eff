"""Benchmark: the crowd estimate and its alerts against the twin's true occupancy.

Each seed plays one twin day (the visitor model and the sensor model, stepped a minute at a
time, no HTTP and no database, as ``bench.twin`` does). Every minute the sensors' reports are
validated as ingest would and folded into the estimator the crowd monitor uses, and into the
frozen per-area filter of ``bench.baseline_occupancy`` beside it (the baseline, same reports);
then every watched area (a capacity and at least one sensor) is estimated at the minute's end
and its alert level moved through the platform's own rules (the scenario's ``[crowd_alerts]``:
tiers, holds and margins). The same rules applied to the true occupancy give the truth's
level. The scoring (``lakeguard.crowd.scoring``) and the meaning of every figure are in
docs/crowd.md, "Scored against the twin".

    python -m bench.estimate [--seeds 1,2,3] [--visitors 800000] [--sensor-loss P] [--clustered]

``--sensor-loss P`` loses that share of reports on top of the twin's own failures and takes
every counting line offline (with ``status`` messages) for an hour at a random time between
06:00 and 21:00, seeded. ``--clustered`` makes the crowd gather unevenly, so that each camera
and drone sees a share of its area's people that is its coverage shifted by a bias fixed for
the day and a slow wander: the estimator is then not scored only against its own measurement
model.

It prints a table per hotspot (pooled over seeds), the figures per seed, the estimator's mean
update time per minute of data (all areas), and a last line of JSON pooled over the seeds,
every figure also as ``baseline_*``. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
from rich.console import Console
from rich.table import Table

from bench.baseline_occupancy import OccupancyEngine as BaselineEngine
from lakeguard.config import bundled_scenario
from lakeguard.crowd.alerts import AlertRules, LevelTracker, reading, sure_ratio
from lakeguard.crowd.estimator import VenueEstimator
from lakeguard.crowd.scoring import Z80, AreaDay, AreaScore, figures, pool, score_area
from lakeguard.ingest.schema import Observation, parse_observations
from lakeguard.twin.config import (
    Clustering,
    SensorConfig,
    SensorLoss,
    load_crowd_twin,
    twin_file,
)
from lakeguard.twin.frame import CrowdFrame
from lakeguard.twin.sensors import SensorModel
from lakeguard.twin.visitors import VisitorModel
from lakeguard.venue.checks import build_network
from lakeguard.venue.loader import Scenario, load_scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.plans import CrowdAlertRules
from lakeguard.venue.schema import AreaKind

DAY_S = 86_400.0
STEP_S = 60.0
PROGRESS_EVERY_S = 3 * 3600.0


class Estimator(Protocol):
    """What the benchmark needs of an occupancy estimator (the crowd engine's interface)."""

    def apply(self, observation: Observation) -> str: ...

    def estimate(self, area_id: str, now: float) -> Any: ...


def judge_by_reading(tracker: LevelTracker, t: float, estimate: Any) -> None:
    """Today's rule: the estimate's ratio and its worse density move the level."""
    density = estimate.density
    if estimate.local_density is not None:
        density = max(density, estimate.local_density)
    tracker.update(t, estimate.ratio, density)


def judge_with_confidence(tracker: LevelTracker, t: float, estimate: Any) -> None:
    """The monitor's rule: orange and red rise on the low end of the estimate's interval."""
    ratio, density = reading(estimate)
    tracker.update(t, ratio, density, sure_ratio(tracker.rules, estimate))


def gaussian_interval(estimate: Any) -> tuple[float, float]:
    """The central 80 % interval of a normal estimate, cut at nobody."""
    half = Z80 * estimate.std
    return max(0.0, estimate.occupancy - half), estimate.occupancy + half


def bounded_interval(estimate: Any) -> tuple[float, float]:
    """The estimator's own central 80 % interval, cut to [0, physical maximum]."""
    return estimate.low80, estimate.high80


@dataclass
class Contender:
    """An estimator with the rule that turns its estimates into alert levels."""

    name: str
    engine: Estimator
    judge: Callable[[LevelTracker, float, Any], None]
    interval80: Callable[[Any], tuple[float, float]]
    update_s: float = 0.0
    minutes: int = 0


def under_test(scenario: Scenario) -> Contender:
    """The estimator and the alert rule the crowd monitor uses now: the one place to switch."""
    return Contender("estimator", VenueEstimator(scenario), judge_with_confidence, bounded_interval)


def baseline(scenario: Scenario) -> Contender:
    """The frozen per-area filter with the alert rule of its day."""
    return Contender("baseline", BaselineEngine(scenario), judge_by_reading, gaussian_interval)


@dataclass
class Track:
    """One contender's day: per minute × watched area, what it said."""

    contender: Contender
    trackers: list[LevelTracker]
    mean: list[list[float]] = field(default_factory=list)
    std: list[list[float]] = field(default_factory=list)
    low: list[list[float]] = field(default_factory=list)
    high: list[list[float]] = field(default_factory=list)
    level: list[list[int]] = field(default_factory=list)


class Replay:
    """The per-minute callback: reports into every contender, truth and estimates recorded."""

    def __init__(
        self, scenario: Scenario, contenders: Sequence[Contender], epoch: float, rules: AlertRules
    ) -> None:
        index = {a.id: i for i, a in enumerate(scenario.areas)}
        sensed = {s.area for s in scenario.sensors}
        self.areas = [a for a in scenario.areas if a.capacity and a.id in sensed]
        self.columns = [index[a.id] for a in self.areas]
        self.epoch = epoch
        self.tracks = [
            Track(c, [LevelTracker(rules) for _ in self.areas]) for c in contenders
        ]  # fmt: skip
        self.t: list[float] = []
        self.truth: list[list[float]] = []

    def __call__(self, frame: CrowdFrame, reports: list[dict[str, Any]]) -> None:
        t = self.epoch + frame.t_s
        observations = parse_observations(reports)
        self.t.append(t)
        self.truth.append(frame.occupancy[self.columns].astype(float).tolist())
        # Take turns going first, so neither pays alone for what the other leaves warm.
        for track in self.tracks if len(self.t) % 2 else self.tracks[::-1]:
            self._step(track, observations, t)

    def _step(self, track: Track, observations: list[Observation], t: float) -> None:
        contender = track.contender
        start = time.perf_counter()
        for observation in observations:
            contender.engine.apply(observation)
        estimates = [contender.engine.estimate(a.id, t) for a in self.areas]
        contender.update_s += time.perf_counter() - start
        contender.minutes += 1
        row: list[list[float]] = [[], [], [], []]
        levels = []
        for area, tracker, estimate in zip(self.areas, track.trackers, estimates, strict=True):
            if estimate is None:  # nothing heard yet: nobody known, about the capacity wide
                cap = float(area.capacity or 0)
                values = (0.0, cap, 0.0, Z80 * cap)
            else:
                contender.judge(tracker, t, estimate)
                values = (estimate.occupancy, estimate.std, *contender.interval80(estimate))
            for column, value in zip(row, values, strict=True):
                column.append(value)
            levels.append(int(tracker.level))
        track.mean.append(row[0])
        track.std.append(row[1])
        track.low.append(row[2])
        track.high.append(row[3])
        track.level.append(levels)

    def scores(self, rules: AlertRules) -> list[list[AreaScore]]:
        """Per contender, one score per watched area."""
        t, truth = np.array(self.t), np.array(self.truth)
        out = []
        for track in self.tracks:
            arrays = [np.array(x) for x in (track.mean, track.std, track.low, track.high)]
            level = np.array(track.level, dtype=np.int64)
            out.append(
                [
                    score_area(
                        rules,
                        AreaDay(
                            area_id=area.id,
                            capacity=int(area.capacity or 0),
                            usable_m2=area.usable_m2,
                            hotspot=area.kind == AreaKind.HOTSPOT,
                            t=t,
                            truth=truth[:, k],
                            mean=arrays[0][:, k],
                            std=arrays[1][:, k],
                            low80=arrays[2][:, k],
                            high80=arrays[3][:, k],
                            level=level[:, k],
                        ),
                    )
                    for k, area in enumerate(self.areas)
                ]
            )
        return out


@dataclass(frozen=True)
class SeedResult:
    seed: int
    wall_s: float
    scores: list[list[AreaScore]]  # per contender, per watched area


def play_day(
    scenario: Scenario,
    network: TravelNetwork,
    sensor_config: SensorConfig,
    rules: AlertRules,
    *,
    visitors: int,
    seed: int,
) -> tuple[SeedResult, list[Contender]]:
    """One seeded twin day through the estimator under test and the baseline."""
    start = time.perf_counter()
    midnight = datetime(2024, 5, 1, tzinfo=ZoneInfo(scenario.config.timezone))
    model = VisitorModel(scenario, network, visitors=visitors, seed=seed)
    sensors = SensorModel(scenario, seed=seed, day_start=midnight, config=sensor_config)
    contenders = [under_test(scenario), baseline(scenario)]
    replay = Replay(scenario, contenders, midnight.timestamp(), rules)
    for _ in range(round(DAY_S / STEP_S)):
        frame = model.step(STEP_S)
        replay(frame, sensors.observe(frame))
        if frame.t_s % PROGRESS_EVERY_S == 0:
            hour = round(frame.t_s / 3600) % 24
            print(
                f"seed {seed}: {hour:02d}:00 of the day, {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    wall = time.perf_counter() - start
    return SeedResult(seed, wall, replay.scores(rules)), contenders


def summary(scores: Sequence[AreaScore], days: int) -> dict[str, Any]:
    return {"days": days, **figures(scores)}


def hotspot_table(title: str, estimator: list[AreaScore], base: list[AreaScore]) -> Table:
    table = Table(title=f"{title}: estimator / baseline")
    for name in ("hotspot", "capacity", "true peak", "MAE/capacity", "truth alert min",
                 "false alert min", "missed alert min", "false red min"):  # fmt: skip
        if name == "hotspot":
            table.add_column(name, no_wrap=True)
        else:
            table.add_column(name, justify="right")
    for ours, theirs in zip(estimator, base, strict=True):
        if not ours.hotspot:
            continue
        table.add_row(
            ours.area_id,
            f"{ours.capacity:,}",
            f"{ours.truth_peak / ours.capacity:.0%}",
            f"{ours.mae_share:.3f} / {theirs.mae_share:.3f}",
            f"{ours.truth_alert_minutes:,}",
            f"{ours.false_alert_minutes:,} / {theirs.false_alert_minutes:,}",
            f"{ours.missed_alert_minutes:,} / {theirs.missed_alert_minutes:,}",
            f"{ours.false_red_minutes:,} / {theirs.false_red_minutes:,}",
        )
    return table


FIGURES = (
    "mae_share_max", "wape_busy", "truth_alert_minutes", "false_alert_minutes",
    "missed_alert_minutes", "false_alert_share", "missed_alert_share", "false_red_minutes",
    "interval_coverage_80", "interval_coverage_80_busy", "nis_mean",
)  # fmt: skip


def figure_table(per_seed: dict[int, dict[str, Any]], pooled: dict[str, Any]) -> Table:
    """Each figure per seed and pooled, the estimator's before the baseline's."""
    table = Table(title="Figures: estimator / baseline")
    table.add_column("figure")
    for seed in per_seed:
        table.add_column(f"seed {seed}", justify="right")
    table.add_column("pooled", justify="right")
    columns = [*per_seed.values(), pooled]
    for name in FIGURES:
        table.add_row(name, *(f"{c[name]} / {c['baseline_' + name]}" for c in columns))
    return table


def with_baseline(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """The estimator's figures, then the same keys prefixed ``baseline_``."""
    out = dict(ours)
    out.update({f"baseline_{k}": v for k, v in theirs.items() if k != "days"})
    return out


def parse_seeds(text: str) -> list[int]:
    seeds = [int(part) for part in text.split(",") if part.strip()]
    if not seeds:
        raise argparse.ArgumentTypeError("give at least one seed, e.g. 1,2,3")
    return seeds


def loss_share(text: str) -> float:
    share = float(text)
    if not 0.0 <= share <= 0.5:
        raise argparse.ArgumentTypeError("the share of reports lost must be between 0 and 0.5")
    return share


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=parse_seeds, default=[1, 2, 3])
    parser.add_argument("--visitors", type=int, default=800_000)
    parser.add_argument(
        "--sensor-loss",
        type=loss_share,
        default=None,
        metavar="P",
        help="lose this share of reports and take every counting line offline for an hour",
    )
    parser.add_argument(
        "--clustered",
        action="store_true",
        help="crowds gather unevenly: each camera sees a biased, wandering share of its area",
    )
    return parser.parse_args(argv)


def sensor_settings(base: SensorConfig, args: argparse.Namespace) -> SensorConfig:
    """The scenario's sensor model with the options asked for on the command line."""
    update: dict[str, Any] = {}
    if args.sensor_loss is not None:
        update["loss"] = SensorLoss(share=args.sensor_loss)
    if args.clustered:
        update["clustering"] = Clustering()
    return SensorConfig.model_validate({**base.model_dump(), **update})


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(argv)
    scenario = load_scenario(bundled_scenario())
    network = build_network(scenario.network, scenario.config, scenario.areas)
    book = scenario.plans
    rules = AlertRules.from_table(book.crowd_alerts if book else CrowdAlertRules())
    config = sensor_settings(load_crowd_twin(twin_file(scenario.source)).sensors, args)
    results: list[SeedResult] = []
    update_s, minutes = [0.0, 0.0], [0, 0]
    for seed in args.seeds:
        result, contenders = play_day(
            scenario, network, config, rules, visitors=args.visitors, seed=seed
        )
        results.append(result)
        for k, contender in enumerate(contenders):
            update_s[k] += contender.update_s
            minutes[k] += contender.minutes
    per_seed = {
        r.seed: with_baseline(summary(r.scores[0], 1), summary(r.scores[1], 1)) for r in results
    }
    ours = pool(s for r in results for s in r.scores[0])
    theirs = pool(s for r in results for s in r.scores[1])
    days = len(results)
    pooled = with_baseline(summary(ours, days), summary(theirs, days))
    update_ms = [1000 * s / m for s, m in zip(update_s, minutes, strict=True)]
    console = Console(width=max(Console().width, 130))
    console.print(hotspot_table(f"Hotspots, {days} day(s) pooled", ours, theirs))
    console.print(figure_table(per_seed, pooled))
    console.print(
        f"update time per minute of data (all areas): estimator {update_ms[0]:.2f} ms, "
        f"baseline {update_ms[1]:.2f} ms; wall {sum(r.wall_s for r in results):.0f} s"
    )
    print(
        json.dumps(
            {
                **pooled,
                "seeds": args.seeds,
                "visitors": args.visitors,
                "sensors": sensor_figures(config),
                "update_ms_per_minute": round(update_ms[0], 3),
                "baseline_update_ms_per_minute": round(update_ms[1], 3),
                "update_ratio": round(update_ms[1] / update_ms[0], 2),
                "per_seed": {str(k): v for k, v in per_seed.items()},
            }
        )
    )


def sensor_figures(config: SensorConfig) -> dict[str, Any]:
    """The sensor settings a run used, beyond the scenario's defaults."""
    return {
        "failures": config.failures.model_dump(),
        "loss": None if config.loss is None else config.loss.model_dump(),
        "clustering": None if config.clustering is None else config.clustering.model_dump(),
    }


if __name__ == "__main__":
    main()
