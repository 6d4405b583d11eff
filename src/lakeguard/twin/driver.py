"""A twin day played through the platform's public interfaces.

Each step of the twin clock (a minute by default) the visitor model moves the crowd; then,
in time order, callers report the step's incidents, the dispatcher sends units, units report
their progress; at the step's end the sensors' observations and the trackers' positions go
in, and the event log tells the twin which units the platform dispatched (its own emergency
plans included), so those units start moving too.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from lakeguard.forces.engine import post_locations
from lakeguard.twin.api import TwinApi, TwinApiError
from lakeguard.twin.incident_config import IncidentConfig
from lakeguard.twin.incidents import IncidentModel, TwinIncident
from lakeguard.twin.pace import Pace
from lakeguard.twin.paths import Unreachable
from lakeguard.twin.record import Dispatch, SentIncident, TwinRecord
from lakeguard.twin.sensors import SensorModel
from lakeguard.twin.units import Progress, TwinUnit, UnitBusy, UnitModel
from lakeguard.twin.visitors import VisitorModel
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork

log = logging.getLogger(__name__)

DAY_S = 86_400.0
MAX_BATCH = 10_000
EVENT_TOPICS = "incident.created,incident.assignment"
# Crowd-control units sent by an emergency plan hold their post this long (twin seconds).
PLAN_HOLD_S = 1800.0


# A platform fed by the twin treats a position as fresh this long (venue seconds): a patrolling
# officer reports every 10 minutes of twin time, so 15 minutes keeps the last report in use.
TWIN_POSITION_MAX_AGE_S = 900.0
LonLat = tuple[float, float]


@dataclass(frozen=True)
class TwinOptions:
    visitors: int = 800_000
    seed: int = 1
    day: date = date(2026, 10, 2)  # a National Day holiday: West Lake's busiest week
    start_s: float = 0.0  # the first second played through the platform; before it, engines only
    end_s: float = DAY_S
    step_s: float = 60.0
    auto_dispatch: bool = True  # accept each recommendation, as a dispatcher at the desk would
    dispatch_after_s: float = 30.0  # the call-taker's processing time before dispatching
    retry_dispatch_s: float = 300.0  # when nobody could be sent, ask again after this long
    dry: bool = False  # a dry day: hill fires are possible
    # How often trackers report, in twin seconds. A day compressed into minutes cannot carry
    # a real tracker's rate (2,000 units every 30 s); these keep the map and dispatch honest
    # at a load the platform takes at 60x on two cores.
    travelling_every_s: float = 60.0
    moving_every_s: float = 600.0
    standing_every_s: float = 3600.0
    guard_report_factor: float = 6.0  # guards' phones report this many times less often
    incident_rate_scale: float = 1.0  # a what-if: every incident rate times this


@dataclass(order=True)
class _Due:
    t_s: float
    order: int
    kind: str = field(compare=False)
    item: Any = field(compare=False)


class TwinDay:
    """One day of the twin against one platform."""

    def __init__(
        self,
        scenario: Scenario,
        network: TravelNetwork,
        api: TwinApi,
        options: TwinOptions,
        pace: Pace,
        *,
        stop: threading.Event | None = None,
    ) -> None:
        self.scenario, self.network, self.api = scenario, network, api
        self.options, self.pace = options, pace
        self.stop = stop or threading.Event()
        zone = ZoneInfo(scenario.config.timezone)
        self.midnight = datetime.combine(options.day, datetime.min.time(), zone)
        self.visitors = VisitorModel(
            scenario, network, visitors=options.visitors, seed=options.seed
        )
        self.sensors = SensorModel(scenario, seed=options.seed, day_start=self.midnight)
        self.incident_model = IncidentModel(
            scenario,
            network,
            seed=options.seed,
            dry=options.dry,
            config=_incident_config(scenario, options.incident_rate_scale),
        )
        self.record = TwinRecord(self.visitors.area_ids, step_s=options.step_s)
        self.units: UnitModel | None = None
        self.unit_specs: list[TwinUnit] = []
        self._agenda: list[_Due] = []
        self._order = itertools.count()
        self._after = 0  # event log position
        self._located: dict[int, tuple[float, float]] = {}  # incident id -> where units go
        self._pointed: set[int] = set()  # incidents the caller located with coordinates
        # Each unit's last reported position (t_s, lon, lat): where the platform believes it is.
        self._last_fix: dict[str, tuple[float, float, float]] = {}
        self._spec: dict[str, TwinUnit] = {}
        self._post_at = post_locations(scenario.posts)
        self._handling: dict[int, float] = {}  # incident id -> on-scene time of its call
        self._working: dict[int, set[str]] = {}  # incident id -> units not yet resolved
        self._densities: dict[str, float] = {}
        usable = {a.id: a.usable_m2 for a in scenario.areas}
        self._usable = np.array([usable[a] for a in self.visitors.area_ids], dtype=np.float64)

    # -- set-up ---------------------------------------------------------------------------

    def prepare(self) -> None:
        """Read the roster and start reading the event log from now. Each unit's tracker is
        set up the first time it reports, so the cost is spread over the first hour."""
        roster = self.api.units()
        self.unit_specs = [_twin_unit(u) for u in roster if u.get("location")]
        self._spec = {u.unit_id: u for u in self.unit_specs}
        self.units = UnitModel(
            self.scenario,
            self.network,
            self.unit_specs,
            seed=self.options.seed,
            travelling_every_s=self.options.travelling_every_s,
            moving_every_s=self.options.moving_every_s,
            standing_every_s=self.options.standing_every_s,
            slower={"security_guard": self.options.guard_report_factor},
        )
        _, self._after = self.api.events(0, "none")

    def at(self, t_s: float) -> datetime:
        return self.midnight + timedelta(seconds=t_s)

    # -- the day --------------------------------------------------------------------------

    def run(self, progress: Callable[[float], None] | None = None) -> TwinRecord:
        """Play from midnight to ``end_s``: engines only before ``start_s``, then for real."""
        if self.units is None:
            self.prepare()
        step = self.options.step_s
        t = 0.0
        while t < self.options.end_s - 1e-9 and not self.stop.is_set():
            live = t >= self.options.start_s - 1e-9
            self._step(t, t + step, live)
            t += step
            if progress is not None:
                progress(t)
        if not self.stop.is_set():
            self._finish()
        return self.record

    def _step(self, t0: float, t1: float, live: bool) -> None:
        assert self.units is not None
        frame = self.visitors.step(self.options.step_s)
        self.record.add_frame(frame)
        with np.errstate(divide="ignore", invalid="ignore"):
            density = np.where(self._usable > 0, frame.occupancy / self._usable, 0.0)
        self._densities = {
            a: float(d) for a, d in zip(self.visitors.area_ids, density, strict=True) if d > 0.3
        }
        observations = self.sensors.observe(frame)
        calls = self.incident_model.step(frame)
        if not live:
            self.units.advance(t1)
            return
        for call in calls:
            self._push(call.t_s, "call", call)
        self._run_agenda(t1)
        self.pace.wait_until(self.at(t1))
        self._report_positions(t1)
        self._report_observations(observations)
        self._read_dispatches()

    def _push(self, t_s: float, kind: str, item: Any) -> None:
        heapq.heappush(self._agenda, _Due(t_s, next(self._order), kind, item))

    def _run_agenda(self, until_s: float) -> None:
        """Everything due up to ``until_s``, in time order, new consequences included."""
        assert self.units is not None
        while not self.stop.is_set():
            for progress in self.units.due(until_s):
                self._push(progress.t_s, "progress", progress)
            if not self._agenda or self._agenda[0].t_s > until_s:
                return
            due = heapq.heappop(self._agenda)
            self.pace.wait_until(self.at(due.t_s))
            if due.kind == "call":
                self._report_call(due.item)
            elif due.kind == "dispatch":
                self._dispatch(due.item, due.t_s)
            else:
                self._report_progress(due.item)

    # -- calls, dispatch, progress ----------------------------------------------------------

    def _report_call(self, call: TwinIncident) -> None:
        sent = SentIncident(call.seq, call.t_s, call.type, call.area_id)
        self.record.incidents.append(sent)
        body: dict[str, Any] = {
            "type": call.type,
            "source": call.source,
            "description": call.description,
            "caller": call.caller,
        }
        if call.place is not None:
            body["place"] = call.place
        else:
            body["lon"], body["lat"] = call.lon, call.lat
        try:
            created = self.api.report_incident(body)
        except TwinApiError as exc:
            self._anomaly(f"incident {call.seq} ({call.type}) was refused: {exc}")
            return
        sent.incident_id = created["id"]
        self._located[created["id"]] = (created["lon"], created["lat"])
        if call.place is None:
            self._pointed.add(created["id"])
        self._handling[created["id"]] = call.handling_s
        if self.options.auto_dispatch:
            self._push(call.t_s + self.options.dispatch_after_s, "dispatch", created["id"])
        else:
            sent.reason_open = "waiting for a dispatcher (automatic dispatch is off)"

    def _dispatch(self, incident_id: int, t_s: float) -> None:
        sent = self.record.sent(incident_id)
        try:
            units = self.api.dispatch_recommended(incident_id)
        except TwinApiError as exc:
            self._anomaly(f"dispatching incident {incident_id} failed: {exc}")
            return
        self._read_dispatches()
        if units:
            if sent is not None:
                sent.reason_open = None
            return
        if sent is not None:
            sent.reason_open = "no unit could be sent (the recommendation was empty)"
        self._push(t_s + self.options.retry_dispatch_s, "dispatch", incident_id)

    def _read_dispatches(self) -> None:
        """Start the units the platform dispatched since the last look, whoever sent them."""
        assert self.units is not None
        events, self._after = self.api.events(self._after, EVENT_TOPICS)
        for message in events:
            event = message["event"]
            if message["topic"] == "incident.created":
                self._located.setdefault(event["incident_id"], (event["lon"], event["lat"]))
                continue
            if event["status"] == "dispatched":
                self._start(event)
            elif event["status"] == "cancelled" and self.units.busy(event["unit_id"]):
                self.units.release(event["unit_id"], self._t(event["occurred_at"]))

    def _start(self, event: dict[str, Any]) -> None:
        assert self.units is not None
        incident_id, unit_id = event["incident_id"], event["unit_id"]
        t_s = self._t(event["occurred_at"])
        lon, lat = self._located[incident_id]
        handling = self._handling.get(incident_id, PLAN_HOLD_S)
        try:
            on_scene = self.units.dispatch(
                unit_id, incident_id, t_s, lon, lat, handling, densities=self._densities
            )
        except (UnitBusy, Unreachable) as exc:
            # The platform sent a unit the twin cannot move there: say so, and stand it down
            # on the platform so the incident does not wait for it forever.
            self._anomaly(f"unit {unit_id} cannot go to incident {incident_id}: {exc}")
            self._cancel(incident_id, unit_id)
            return
        plan = self.units.plan(unit_id)
        believed = self._believed(unit_id, t_s)
        self._working.setdefault(incident_id, set()).add(unit_id)
        self.record.dispatches.append(
            Dispatch(
                incident_id,
                unit_id,
                t_s,
                event.get("eta_s"),
                on_scene,
                plan.dispatched_s + plan.free_flow_s,
                mode=plan.mode,
                turnout_s=plan.turnout_s,
                travel_s=plan.travel_s,
                true_from=plan.from_lonlat,
                believed_from=believed[0] if believed else None,
                believed_age_s=believed[1] if believed else None,
                scene=plan.to_lonlat,
                pointed=incident_id in self._pointed,
                eta_p90_s=event.get("eta_p90_s"),
            )
        )

    def _believed(self, unit_id: str, t_s: float) -> tuple[LonLat, float | None] | None:
        """Where the platform assumed the unit was at ``t_s`` and how old that was: its last
        reported position while fresh, else its home post (the platform's own rule)."""
        fix = self._last_fix.get(unit_id)
        spec = self._spec.get(unit_id)
        age = t_s - fix[0] if fix else None
        if fix and age is not None and age <= TWIN_POSITION_MAX_AGE_S:
            return (fix[1], fix[2]), age
        home = self._post_at.get(spec.home_post) if spec and spec.home_post else None
        if home is not None:
            return home, age
        return ((fix[1], fix[2]), age) if fix else None

    def _cancel(self, incident_id: int, unit_id: str) -> None:
        try:
            self.api.report_progress(incident_id, unit_id, "cancelled")
        except TwinApiError as exc:
            self._anomaly(f"unit {unit_id} could not be stood down from {incident_id}: {exc}")

    def _report_progress(self, step: Progress) -> None:
        try:
            self.api.report_progress(step.incident_id, step.unit_id, step.status)
        except TwinApiError as exc:
            self._anomaly(f"unit {step.unit_id} could not report {step.status}: {exc}")
            return
        if step.status != "resolved":
            return
        working = self._working.get(step.incident_id, set())
        working.discard(step.unit_id)
        if not working:
            try:
                self.api.close_incident(step.incident_id)
            except TwinApiError as exc:
                self._anomaly(f"incident {step.incident_id} could not be closed: {exc}")

    # -- sensors and trackers ---------------------------------------------------------------

    def _report_observations(self, observations: list[dict[str, Any]]) -> None:
        for start in range(0, len(observations), MAX_BATCH):
            batch = observations[start : start + MAX_BATCH]
            try:
                result = self.api.report_observations(batch)
            except TwinApiError as exc:
                self._anomaly(f"{len(batch)} observations were refused: {exc}")
                continue
            self.record.observations_sent += len(batch)
            self.record.observations_refused += len(result["rejected"])

    def _report_positions(self, t1: float) -> None:
        assert self.units is not None
        for fix in self.units.advance(t1):
            if self.stop.is_set():
                return  # stopping: the rest of this step's reports are not needed
            try:
                self.api.report_position(
                    fix.unit_id,
                    self.at(fix.t_s),
                    fix.lon,
                    fix.lat,
                    fix.speed_ms,
                    fix.bearing_deg,
                )
            except TwinApiError as exc:
                self._anomaly(f"unit {fix.unit_id}'s position was refused: {exc}")
                continue
            self.record.positions_sent += 1
            self._last_fix[fix.unit_id] = (fix.t_s, fix.lon, fix.lat)

    # -- the end of the day -----------------------------------------------------------------

    def _finish(self) -> None:
        """Say why each incident the platform still has open is open."""
        sent = {i.incident_id: i for i in self.record.incidents if i.incident_id is not None}
        waiting = {due.item for due in self._agenda if due.kind == "dispatch"}
        for row in self.api.incidents():
            if row["status"] in ("closed", "cancelled"):
                continue
            call = sent.get(row["id"])
            if self._working.get(row["id"]):
                reason = "units were still on it when the run ended"
            elif row["id"] in waiting:
                reason = "the call-taker had not dispatched it yet when the run ended"
            elif call is not None and call.reason_open is not None:
                reason = call.reason_open
            else:
                reason = "open for no reason the twin knows"
                self._anomaly(f"incident {row['id']} ({row['type']}) is open without a reason")
            self.record.open_reasons[row["id"]] = reason
            if call is not None:
                call.reason_open = reason

    def _anomaly(self, message: str) -> None:
        log.warning("%s", message)
        self.record.anomalies.append(message)

    def _t(self, iso: str) -> float:
        return (datetime.fromisoformat(iso) - self.midnight).total_seconds()


def _incident_config(scenario: Scenario, scale: float) -> IncidentConfig:
    config = IncidentConfig.for_scenario(scenario.source)
    if scale == 1.0:
        return config
    if scale <= 0:
        raise ValueError(f"incident_rate_scale must be positive, got {scale}")
    types = {
        code: kind.model_copy(update={"rates": {c: r * scale for c, r in kind.rates.items()}})
        for code, kind in config.types.items()
    }
    return config.model_copy(update={"types": types})


def _twin_unit(unit: dict[str, Any]) -> TwinUnit:
    location = unit["location"]
    return TwinUnit(
        unit_id=unit["id"],
        device_id=unit.get("device_id"),
        kind=unit["kind"],
        mode=unit["mode"],
        home_post=unit.get("home_post"),
        lon=location["lon"],
        lat=location["lat"],
    )
