"""Benchmark: sensor observations through the ingest path, against one row per transaction.

Observations are generated for every sensor of the West Lake scenario from a true occupancy per
area (a daily curve, and surges at hotspots that cross 80, 90 and 100 % of capacity and fall
back, so alerts are raised and cleared): counting lines report ``crossing`` every 10 s, cameras
and drones ``count`` every 5–10 s over part of their area, cameras ``density`` every 30 s, every
sensor ``status`` every 10 minutes, and two sensors drop out for a while. All are generated
before anything is timed.

1. Throughput: the observations go through ``Ingestor.ingest_json`` as JSON bodies of 10,000
   (the API's maximum), as the HTTP endpoint hands them on: decoding and validation, storing
   once in SQLite, the occupancy estimate, alerts, and the emergency plans that alerts start,
   with units dispatched from the full model deployment.
2. Baseline, same run: the first 20,000 of the same observations (all of them would take
   minutes) into a fresh database of the same schema, one row per transaction with the plain
   SQLAlchemy ORM: no validation, no estimate, no alerts. A slice of it runs after each batch
   of 1, so that both sides are timed on the same, shared, machine.
3. Alert latency: the real app under uvicorn, a WebSocket client subscribed to
   ``crowd.alert.level``; observations are ingested at 5,000 a second (250 every 50 ms, data
   time running about 700 times faster than the wall clock), and each alert event is timed
   from the start of the ingest call of the batch holding the observation that caused it
   (validation, storing and commit included) to its arrival at the client.
4. PostgreSQL, when ``LAKEGUARD_TEST_DATABASE_URL`` names one: phase 1 again, in a fresh
   schema there (``pg_obs_per_s``).

    python -m bench.ingest [--observations 200000] [--baseline-observations 20000]
                           [--seconds 25] [--seed 1] [--quick] [--profile]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import cProfile
import functools
import json
import math
import os
import pstats
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lakeguard.api.collector import server_collector
from lakeguard.config import Settings, bundled_scenario
from lakeguard.crowd.models import AlertRow, PlanRunRow
from lakeguard.forces.deployment import MODEL_COMPANIES, westlake_deployment
from lakeguard.forces.roster import replace_seeded_units
from lakeguard.ingest.models import ObservationRow
from lakeguard.ingest.schema import MAX_BATCH
from lakeguard.store.migrate import upgrade
from lakeguard.store.outbox import OutboxRow
from lakeguard.store.session import make_engine, make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario, load_scenario
from lakeguard.venue.schema import SensorKind
from lakeguard.venue.service import store_scenario

LEVEL_TOPIC = "crowd.alert.level"
LEVELS = ("none", "yellow", "orange", "red")
LINE_KINDS = (SensorKind.GATE, SensorKind.CHECKPOINT)
LINE_WINDOW_S = 10.0
DENSITY_EVERY_S = 30.0
STATUS_EVERY_S = 600.0
OUTAGE_S = 900.0
DWELL_S = 1200.0  # mean stay in an area: sets how many people cross its lines
RATE = 5000.0  # observations per second in the latency phase
TICK_S = 0.05
TARGET_OBS_PER_S = 60_000
TARGET_P99_MS = 50.0
POSTGRES_ENV = "LAKEGUARD_TEST_DATABASE_URL"  # a PostgreSQL to run phase 4 on, if set
NOW_MARGIN_S = 900.0  # the newest data time stays this far behind the wall clock
OLDEST_S = 23.5 * 3600  # the oldest data time: inside the 24 h the ingest path accepts


# --- the crowd and its sensors ----------------------------------------------------------------


def daily_share(hours: np.ndarray | float) -> Any:
    """Share of an area's daily peak present at an hour of the day: highest at 14:00."""
    hours_from_peak = (np.asarray(hours) - 14 + 12) % 24 - 12
    return 0.3 + 0.7 * np.exp(-0.5 * (hours_from_peak / 3.5) ** 2)


@dataclass
class Crowd:
    """True occupancy per area: a daily curve, plus surges at some hotspots."""

    origin_s: float  # the data's first moment, taken as 08:00 so that every run sees one day
    capacity: dict[str, float]
    base: dict[str, float] = field(default_factory=dict)  # share of capacity at the daily peak
    surges: dict[str, list[tuple[float, ...]]] = field(default_factory=dict)

    @classmethod
    def westlake(
        cls, scenario: Scenario, start_s: float, end_s: float, rng: np.random.Generator
    ) -> Crowd:
        watched = {s.area for s in scenario.sensors}
        looked_at = {s.area for s in scenario.sensors if s.kind not in LINE_KINDS}
        areas = [a for a in scenario.areas if a.id in watched and a.capacity]
        crowd = cls(start_s, {a.id: float(a.capacity or 0) for a in areas})
        for area in areas:
            # Surges where a camera or drone anchors the estimate; the huge lakeside stays calm.
            surging = area.kind.value == "hotspot" and area.id in looked_at
            surging = surging and (area.capacity or 0) < 10_000
            low, high = (0.35, 0.55) if surging else (0.2, 0.6)
            crowd.base[area.id] = float(rng.uniform(low, high))
            if surging:
                crowd.surges[area.id] = _surges(start_s, end_s, rng)
        return crowd

    def hour(self, t: np.ndarray | float) -> Any:
        """Hours since midnight of the data's day (more than 24 on the next day)."""
        return 8 + (np.asarray(t) - self.origin_s) / 3600

    def occupancy(self, area_id: str, t: np.ndarray) -> np.ndarray:
        """People in the area at times t (seconds since the epoch)."""
        share = self.base[area_id] * daily_share(self.hour(t))
        for centre, half, peak in self.surges.get(area_id, []):
            lift = max(0.0, peak - self.base[area_id] * float(daily_share(self.hour(centre))))
            bump = lift * 0.5 * (1 + np.cos(np.pi * (t - centre) / half))
            share = share + np.where(np.abs(t - centre) < half, bump, 0.0)
        return np.asarray(share * self.capacity[area_id])


def _surges(start_s: float, end_s: float, rng: np.random.Generator) -> list[tuple[float, ...]]:
    """(centre, half width, peak share of capacity) of surges every 1.5–2.5 hours."""
    period = rng.uniform(90, 150) * 60
    centre = start_s + rng.uniform(0.2, 1.0) * period
    found: list[tuple[float, ...]] = []
    while centre < end_s + period:
        peak = float(rng.choice([0.86, 0.95, 1.08, 1.15, 1.25]))
        found.append((centre, rng.uniform(20, 30) * 60, peak))
        centre += period * rng.uniform(0.8, 1.2)
    return found


@dataclass(frozen=True)
class Feed:
    """Observations in time order, as sensors send them, and their times in milliseconds."""

    items: list[dict[str, Any]]
    at_ms: np.ndarray

    def __len__(self) -> int:
        return len(self.items)

    def bodies(self, size: int) -> list[bytes]:
        """The feed as JSON request bodies of ``size`` observations, as sensors post them."""
        return [json.dumps(self.items[i : i + size]).encode() for i in range(0, len(self), size)]

    @property
    def hours(self) -> float:
        """The data time the feed spans."""
        return float(self.at_ms[-1] - self.at_ms[0]) / 3.6e6 if len(self) else 0.0


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def _every(start_s: float, end_s: float, step_s: float, rng: np.random.Generator) -> np.ndarray:
    """Regular report times with a little jitter, in whole milliseconds."""
    t = start_s + rng.uniform(0, step_s) + np.arange(0, max(0.0, end_s - start_s), step_s)
    t = t[t < end_s]
    return np.round((t + rng.uniform(-0.3, 0.3, len(t))) * 1000).astype(np.int64)


def data_rate(scenario: Scenario) -> float:
    """Observations per second of data time the generator produces for the venue (mean)."""
    lines = sum(1 for s in scenario.sensors if s.kind in LINE_KINDS)
    viewers = len(scenario.sensors) - lines
    cameras = sum(1 for s in scenario.sensors if s.kind == SensorKind.CAMERA)
    return (
        lines / LINE_WINDOW_S
        + viewers * math.log(2) / 5  # the mean of 1/U(5, 10): counts every 5–10 s
        + cameras / DENSITY_EVERY_S
        + len(scenario.sensors) / STATUS_EVERY_S
    )


def _sensor_reports(
    sensor: Any,
    scenario: Scenario,
    crowd: Crowd,
    span: tuple[float, float],
    rng: np.random.Generator,
) -> list[tuple[int, dict[str, Any]]]:
    """(time in ms, fields) of one sensor's crossings, counts, densities and heartbeats."""
    area = sensor.area

    def people(t: np.ndarray) -> np.ndarray:
        return crowd.occupancy(area, t) if area in crowd.base else np.zeros_like(t)

    reports: list[tuple[int, dict[str, Any]]] = []
    if sensor.kind in LINE_KINDS:
        ms = _every(*span, LINE_WINDOW_S, rng)
        t = ms / 1000
        lines = sum(1 for s in scenario.sensors if s.area == area and s.kind in LINE_KINDS)
        net = (people(t) - people(t - LINE_WINDOW_S)) / lines
        turnover = people(t) * LINE_WINDOW_S / DWELL_S / lines
        entered = rng.poisson(turnover / 2 + np.maximum(net, 0)).tolist()
        exited = rng.poisson(turnover / 2 + np.maximum(-net, 0)).tolist()
        for m, i, o in zip(ms.tolist(), entered, exited, strict=True):
            reports.append((m, {"kind": "crossing", "window_s": LINE_WINDOW_S, "in": i, "out": o}))
    else:
        coverage = round(float(rng.uniform(0.6, 1.0)), 3)
        ms = _every(*span, float(rng.uniform(5, 10)), rng)
        truth = np.round(people(ms / 1000)).astype(np.int64)
        seen = rng.binomial(truth, coverage) * (1 + rng.normal(0, 0.05, len(ms)))
        for m, c in zip(ms.tolist(), seen.tolist(), strict=True):
            reports.append((m, {"kind": "count", "count": max(0, round(c)), "coverage": coverage}))
        if sensor.kind == SensorKind.CAMERA:
            ms = _every(*span, DENSITY_EVERY_S, rng)
            usable = next(a.usable_m2 for a in scenario.areas if a.id == area)
            density = people(ms / 1000) / usable * (1 + rng.normal(0, 0.1, len(ms)))
            for m, d in zip(ms.tolist(), density.tolist(), strict=True):
                fields = {"kind": "density", "persons_per_m2": round(max(0.0, d), 4)}
                reports.append((m, {**fields, "coverage": coverage}))
    for m in _every(*span, STATUS_EVERY_S, rng).tolist():
        reports.append((m, {"kind": "status", "online": True}))
    return reports


def generate(
    scenario: Scenario,
    crowd: Crowd,
    start_s: float,
    count: int,
    rng: np.random.Generator,
    prefix: str,
) -> Feed:
    """``count`` observations from ``start_s`` on, for every sensor of the scenario."""
    span = (start_s, start_s + count / data_rate(scenario) * 1.05 + 120)
    # Two sensors of calm areas drop out for a while: an offline status, silence, online again.
    calm = [s for s in scenario.sensors if s.area not in crowd.surges and s.area in crowd.base]
    out = {
        next(s.id for s in calm if s.kind in LINE_KINDS),
        next(s.id for s in calm if s.kind not in LINE_KINDS),
    }
    down_ms = round((start_s + 0.3 * (span[1] - start_s)) * 1000)
    up_ms = down_ms + round(OUTAGE_S * 1000)
    rows: list[tuple[int, str, dict[str, Any]]] = []
    for sensor in scenario.sensors:
        for m, fields in _sensor_reports(sensor, scenario, crowd, span, rng):
            if sensor.id not in out or not down_ms <= m < up_ms:
                rows.append((m, sensor.id, fields))
        if sensor.id in out:
            rows.append((down_ms, sensor.id, {"kind": "status", "online": False}))
            rows.append((up_ms, sensor.id, {"kind": "status", "online": True}))
    rows.sort(key=lambda r: r[0])
    if len(rows) < count:
        raise RuntimeError(f"generated {len(rows)} observations, fewer than {count}")
    serial: Counter[str] = Counter()
    items = []
    for m, s, f in rows[:count]:
        serial[s] += 1
        items.append({"event_id": f"{prefix}{s}-{serial[s]}", "sensor_id": s, "at": _stamp(m), **f})
    return Feed(items, np.array([r[0] for r in rows[:count]], dtype=np.int64))


# --- databases --------------------------------------------------------------------------------


def prepare_database(url: str, scenario: Scenario, deployment: list[Any]) -> Engine:
    """A migrated SQLite file holding West Lake and its full model deployment."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with transaction(make_sessionmaker(engine)) as session:
        store_scenario(session, scenario=scenario, now=now)
        replace_seeded_units(
            session,
            venue=scenario,
            units=deployment,
            companies=MODEL_COMPANIES,
            actor="bench",
            now=now,
        )
    return engine


def commander_token(engine: Engine) -> str:
    from lakeguard.auth import service as users
    from lakeguard.auth import tokens
    from lakeguard.auth.roles import Role

    now = datetime.now(UTC)
    with transaction(make_sessionmaker(engine)) as session:
        user = users.create(
            session,
            username="bench-commander",
            roles=[Role.COMMANDER],
            password=None,
            actor="bench",
            now=now,
        )
        _, secret = tokens.issue(session, user=user, scopes=["api"], actor="bench", now=now)
    return secret


def outcomes(engine: Engine) -> dict[str, int]:
    """What the ingest left behind: observations, alerts, level changes, plan runs."""
    with Session(engine) as session:
        moves: Counter[str] = Counter()
        for payload in session.scalars(
            select(OutboxRow.payload).where(OutboxRow.topic == LEVEL_TOPIC)
        ):
            up = LEVELS.index(payload["level"]) > LEVELS.index(payload["previous"])
            moves["raised" if up else "cleared" if payload["level"] == "none" else "lowered"] += 1
        return {
            "stored": session.scalar(select(func.count()).select_from(ObservationRow)) or 0,
            "alerts": session.scalar(select(func.count()).select_from(AlertRow)) or 0,
            "level_events": sum(moves.values()),
            "raised": moves["raised"],
            "lowered": moves["lowered"],
            "cleared": moves["cleared"],
            "plans_started": session.scalar(select(func.count()).select_from(PlanRunRow)) or 0,
        }


# --- 1. throughput ----------------------------------------------------------------------------


class Stopwatch:
    """Seconds spent in chosen methods of live objects, by wrapping them on the instance."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def watch(self, obj: Any, method: str, label: str) -> None:
        inner = getattr(obj, method, None)
        if inner is None:  # the ingest path changed shape: skip that part of the breakdown
            return

        @functools.wraps(inner)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent = time.perf_counter() - t0
                self.seconds[label] = self.seconds.get(label, 0.0) + spent

        setattr(obj, method, timed)


def ingest_path(engine: Engine) -> tuple[Any, Any]:
    """The ingest path into the crowd runtime, as the API builds them."""
    from lakeguard.api.state import ActiveVenue
    from lakeguard.crowd.cycle import CrowdRuntime
    from lakeguard.ingest.service import Ingestor

    sessions = make_sessionmaker(engine)
    venue = ActiveVenue.from_database(sessions)
    runtime = CrowdRuntime(venue.context, sessions, max_age_s=Settings().position_max_age_s)
    return Ingestor(venue.scenario, runtime), runtime


def throughput(
    engine: Engine,
    base: Baseline,
    feed: Feed,
    console: Console,
    profile: bool,
    label: str = "SQLite",
) -> dict[str, Any]:
    """Ingest the feed in batches of 10,000; after each, a slice of the baseline's rows.

    Interleaved, so that both sides see the same machine: on a shared two-core machine the
    load drifts, and timing one side after the other would fold the drift into the ratio.
    """
    ingestor, runtime = ingest_path(engine)
    watch = Stopwatch()
    if not profile:
        watch.watch(ingestor, "_decode", "validate")
        watch.watch(ingestor, "_store", "store")
        watch.watch(runtime.monitor, "process", "monitor")
        watch.watch(runtime.monitor.plan_runner, "start", "plans")
    profiler = cProfile.Profile() if profile else None
    batches = range(0, len(feed), MAX_BATCH)
    share = -(-base.wanted // len(batches))  # baseline rows after each batch, rounded up
    accepted, seconds, cpu_seconds = 0, 0.0, 0.0
    bodies = feed.bodies(MAX_BATCH)
    for i, body in zip(batches, bodies, strict=True):
        batch = feed.items[i : i + MAX_BATCH]
        t0, c0 = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        result = ingestor.ingest_json(body, sender="bench", source="http", now=datetime.now(UTC))
        if profiler:
            profiler.disable()
        seconds += time.perf_counter() - t0
        cpu_seconds += time.process_time() - c0
        if result.rejected or result.duplicates or result.accepted != len(batch):
            first = result.rejected[0] if result.rejected else None
            raise SystemExit(
                f"batch at {i}: {result.accepted} accepted of {len(batch)}, "
                f"{result.duplicates} duplicates, {len(result.rejected)} rejected; first: {first}"
            )
        accepted += result.accepted
        base.store(feed.items[base.stored : min(base.stored + share, base.wanted)])
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(15)
        stats.sort_stats("cumtime").print_stats(40)
    console.print(f"throughput, {label}: {accepted:,} observations in {seconds:.2f} s")
    found = outcomes(engine)
    if found["stored"] != len(feed):
        raise SystemExit(f"{found['stored']} observations stored of {len(feed)} sent")
    # Plans start after the cycle commits, in their own transaction: a part of their own.
    parts = dict(watch.seconds)
    parts["commit and rest"] = seconds - sum(parts.values())
    breakdown = {f"{k}_s": round(v, 3) for k, v in parts.items()}
    return {
        "accepted": accepted,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        **found,
        "breakdown": breakdown,
    }


# --- 2. baseline ------------------------------------------------------------------------------


class Baseline:
    """The naive code: one ORM row per observation, one transaction per row."""

    def __init__(self, engine: Engine, scenario: Scenario, wanted: int) -> None:
        self.engine = engine
        self.wanted = wanted
        self.stored = 0
        self.seconds = 0.0
        self._area_of = {s.id: s.area for s in scenario.sensors}

    def store(self, items: list[dict[str, Any]]) -> None:
        t0 = time.perf_counter()
        with Session(self.engine) as session:
            for item in items:
                session.add(
                    ObservationRow(
                        sensor_id=item["sensor_id"],
                        event_id=item["event_id"],
                        area_id=self._area_of[item["sensor_id"]],
                        kind=item["kind"],
                        at_s=datetime.fromisoformat(item["at"]).timestamp(),
                        received_s=time.time(),
                        window_s=item.get("window_s"),
                        entered=item.get("in"),
                        exited=item.get("out"),
                        count=item.get("count"),
                        coverage=item.get("coverage"),
                        persons_per_m2=item.get("persons_per_m2"),
                        online=item.get("online"),
                    )
                )
                session.commit()
        self.seconds += time.perf_counter() - t0
        self.stored += len(items)

    def check(self) -> None:
        with Session(self.engine) as session:
            found = session.scalar(select(func.count()).select_from(ObservationRow))
        if found != self.stored or self.stored != self.wanted:
            raise SystemExit(f"baseline stored {found} of {self.wanted}")


# --- 3. alert latency -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(url: str) -> Iterator[tuple[Any, asyncio.AbstractEventLoop, int]]:
    """The real app under uvicorn in a thread of its own: (app, its loop, port)."""
    import uvicorn

    from lakeguard.api.app import create_app

    app = create_app(Settings(database_url=url))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(server.serve()), name="uvicorn", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SystemExit("the API server did not start")
        time.sleep(0.05)
    try:
        yield app, loop, port
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        loop.close()


class Subscriber:
    """A WebSocket client in its own thread, noting when each message arrives."""

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect

        self.received: list[tuple[float, dict[str, Any]]] = []
        self._stop = threading.Event()
        self._exits = ExitStack()
        self._ws = self._exits.enter_context(connect(url, open_timeout=10))
        self._thread = threading.Thread(target=self._listen, name="subscriber", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        from websockets.exceptions import ConnectionClosed

        while not self._stop.is_set():
            try:
                text = self._ws.recv(timeout=0.2)
            except TimeoutError:
                continue
            except ConnectionClosed:
                return
            self.received.append((time.perf_counter(), json.loads(text)))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._exits.close()


@dataclass
class Batch:
    first_ms: int
    last_ms: int
    started: float  # perf_counter when its ingest call began
    seconds: float


def drive(state: Any, loop: asyncio.AbstractEventLoop, feed: Feed, size: int) -> list[Batch]:
    """Ingest the feed in batches of ``size``, one every TICK_S, waking the relay after each."""
    batches = []
    bodies = feed.bodies(size)
    begin = time.perf_counter()
    for k, i in enumerate(range(0, len(feed), size)):
        delay = begin + k * TICK_S - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        items, body = feed.items[i : i + size], bodies[k]
        started = time.perf_counter()
        now = datetime.now(UTC)
        result = state.ingest.ingest_json(body, sender="bench", source="http", now=now)
        loop.call_soon_threadsafe(state.outbox_written.set)
        seconds = time.perf_counter() - started
        if result.accepted != len(items):
            raise SystemExit(f"latency batch {k}: {result.accepted} of {len(items)} accepted")
        ms = feed.at_ms[i : i + size]
        batches.append(Batch(int(ms[0]), int(ms[-1]), started, seconds))
    return batches


def alert_latency(url: str, feed: Feed, console: Console) -> dict[str, Any]:
    engine = make_engine(url)
    token = commander_token(engine)
    with running_server(url) as (app, loop, port):
        state = app.state.lakeguard
        if state.crowd is None:
            raise SystemExit("the app found no venue; the crowd runtime is off")
        subscriber = Subscriber(
            f"ws://127.0.0.1:{port}/api/v1/stream?topics={LEVEL_TOPIC}&token={quote(token)}"
        )
        size = round(RATE * TICK_S)
        t0 = time.perf_counter()
        batches = drive(state, loop, feed, size)
        wall = time.perf_counter() - t0
        found = outcomes(engine)
        deadline = time.perf_counter() + 5
        while len(subscriber.received) < found["level_events"] and time.perf_counter() < deadline:
            time.sleep(0.05)
        subscriber.close()
    engine.dispose()
    lasts = [b.last_ms for b in batches]
    latencies, unplaced = [], 0
    for received, message in subscriber.received:
        event = message["event"]
        at_ms = round(datetime.fromisoformat(event["occurred_at"]).timestamp() * 1000)
        k = bisect.bisect_left(lasts, at_ms)  # the earliest batch that can hold it
        if k == len(batches) or batches[k].first_ms > at_ms:
            unplaced += 1
            continue
        latencies.append((received - batches[k].started) * 1000)
    ms = np.array(latencies) if latencies else np.array([np.nan])
    call_ms = np.array([b.seconds for b in batches]) * 1000
    console.print(
        f"alert latency: {len(latencies)} events over {wall:.1f} s at "
        f"{len(feed) / wall:,.0f} obs/s; {found['level_events']} level changes stored"
    )
    return {
        "rate": len(feed) / wall,
        "samples": len(latencies),
        "expected": found["level_events"],
        "unplaced": unplaced,
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
        "max": float(np.max(ms)),
        "call_p50": float(np.percentile(call_ms, 50)),
        "call_p99": float(np.percentile(call_ms, 99)),
        "call_max": float(np.max(call_ms)),
        "plans_started": found["plans_started"],
    }


# --- 4. PostgreSQL ---------------------------------------------------------------------------


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh schema in the PostgreSQL at ``base_url``, dropped afterwards; its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"lg_bench_{time.time_ns():x}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres_throughput(
    scenario: Scenario, deployment: list[Any], feed: Feed, console: Console
) -> float | None:
    """Phase 1 again on PostgreSQL (COPY), when one is given; observations per second."""
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        return None
    with postgres_schema(base_url) as url:
        engine = prepare_database(url, scenario, deployment)
        none = Baseline(engine, scenario, 0)
        with server_collector():
            found = throughput(engine, none, feed, console, profile=False, label="PostgreSQL")
        engine.dispose()
    return float(found["accepted"] / found["seconds"])


# --- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    scenario = load_scenario(args.scenario)
    rng = np.random.default_rng(args.seed)
    deployment = westlake_deployment(scenario, np.random.default_rng(1))
    rate = data_rate(scenario)
    now_s = time.time()
    live_count = round(RATE * args.seconds)
    live_end = now_s - NOW_MARGIN_S
    live_start = live_end - live_count / rate * 1.05 - 600
    bulk_start = live_start - args.observations / rate * 1.05 - 1800
    if bulk_start < now_s - OLDEST_S:
        raise SystemExit("too many observations for the 24 h the ingest path accepts")
    crowd = Crowd.westlake(scenario, bulk_start, live_end, rng)
    t0 = time.perf_counter()
    bulk = generate(scenario, crowd, bulk_start, args.observations, rng, "t")
    live = generate(scenario, crowd, live_start, 0 if args.profile else live_count, rng, "l")
    console.print(
        f"generated {len(bulk):,} + {len(live):,} observations for "
        f"{len(scenario.sensors)} sensors in {time.perf_counter() - t0:.1f} s "
        f"({bulk.hours:.1f} h and {live.hours:.1f} h of data)"
    )
    with tempfile.TemporaryDirectory() as folder:
        urls = {p: f"sqlite:///{Path(folder) / f'{p}.sqlite3'}" for p in ("bulk", "base", "live")}
        engine = prepare_database(urls["bulk"], scenario, deployment)
        base_engine = make_engine(urls["base"])
        upgrade(base_engine)
        base = Baseline(base_engine, scenario, 0 if args.profile else args.baseline_observations)
        with server_collector():  # as the server sets it once it is up
            ours = throughput(engine, base, bulk, console, args.profile)
        engine.dispose()
        base.check()
        base_engine.dispose()
        if args.profile:
            return {
                "benchmark": "ingest",
                "profile": True,
                "obs_per_s": len(bulk) / ours["seconds"],
            }
        console.print(f"baseline: {base.stored:,} observations in {base.seconds:.2f} s")
        prepare_database(urls["live"], scenario, deployment).dispose()
        latency = alert_latency(urls["live"], live, console)
    pg_obs_per_s = postgres_throughput(scenario, deployment, bulk, console)
    obs_per_s = ours["accepted"] / ours["seconds"]
    base_per_s = base.stored / base.seconds
    result: dict[str, Any] = {
        "benchmark": "ingest",
        "scenario": scenario.id,
        "sensors": len(scenario.sensors),
        "observations": ours["accepted"],
        "obs_per_s": round(obs_per_s),
        "seconds": round(ours["seconds"], 2),
        # This process's CPU time over the same calls: steadier than the wall clock on a
        # shared machine, where other work takes turns on the cores.
        "obs_per_cpu_s": round(ours["accepted"] / ours["cpu_seconds"]),
        "baseline": "one row per transaction, plain SQLAlchemy ORM",
        "baseline_observations": base.stored,
        "baseline_obs_per_s": round(base_per_s),
        "speedup": round(obs_per_s / base_per_s, 1),
        "alerts_raised": ours["raised"],
        "alerts_lowered": ours["lowered"],
        "alerts_cleared": ours["cleared"],
        "alert_episodes": ours["alerts"],
        "plans_started": ours["plans_started"],
        "breakdown_s": ours["breakdown"],
        "alert_rate_obs_per_s": round(latency["rate"]),
        "alert_samples": latency["samples"],
        "alert_events_stored": latency["expected"],
        "alert_events_unplaced": latency["unplaced"],
        "alert_p50_ms": round(latency["p50"], 1),
        "alert_p99_ms": round(latency["p99"], 1),
        "alert_max_ms": round(latency["max"], 1),
        "ingest_call_p50_ms": round(latency["call_p50"], 1),
        "ingest_call_p99_ms": round(latency["call_p99"], 1),
        "ingest_call_max_ms": round(latency["call_max"], 1),
        "alert_phase_plans_started": latency["plans_started"],
    }
    if pg_obs_per_s is not None:
        result["pg_obs_per_s"] = round(pg_obs_per_s)
    result["target_met"] = bool(
        obs_per_s >= TARGET_OBS_PER_S
        and latency["p99"] <= TARGET_P99_MS
        and latency["samples"] >= 100
        and latency["samples"] == latency["expected"]
    )
    return result


def print_table(result: dict[str, Any]) -> None:
    table = Table(title=f"Ingest of {result['observations']:,} observations, "
                        f"{result['sensors']} sensors")  # fmt: skip
    table.add_column("")
    table.add_column("value", justify="right")
    rows: list[tuple[str, Callable[[Any], str]]] = [
        ("obs_per_s", "{:,}".format),
        ("obs_per_cpu_s", "{:,}".format),
        ("baseline_obs_per_s", "{:,}".format),
        ("speedup", "{}×".format),
        ("alerts_raised", str),
        ("alerts_cleared", str),
        ("plans_started", str),
        ("alert_rate_obs_per_s", "{:,}".format),
        ("alert_samples", str),
        ("alert_p50_ms", str),
        ("alert_p99_ms", str),
        ("alert_max_ms", str),
        ("ingest_call_p99_ms", str),
        ("pg_obs_per_s", "{:,}".format),
    ]
    for key, show in rows:
        if key not in result:
            continue
        table.add_row(key, show(result[key]))
    for part, seconds in result["breakdown_s"].items():
        table.add_row(f"  time in {part.removesuffix('_s')}", f"{seconds:.2f} s")
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=bundled_scenario())
    parser.add_argument("--observations", type=int, default=200_000)
    parser.add_argument("--baseline-observations", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=25.0, help="of the latency phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--profile", action="store_true", help="profile the throughput phase only (cProfile)"
    )
    args = parser.parse_args()
    if args.quick:
        args.observations, args.baseline_observations, args.seconds = 20_000, 1_000, 4.0
    args.baseline_observations = min(args.baseline_observations, args.observations)
    console = Console(stderr=True)
    result = run(args, console)
    if not args.profile:
        print_table(result)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
