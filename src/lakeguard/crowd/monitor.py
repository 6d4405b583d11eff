"""The crowd monitor: estimates in memory, alerts and plans in the database, events out.

One monitor per venue, in the process that ingests. Each ingest cycle folds the new
observations into the occupancy engine, then evaluates the areas they touched at the newest
observation time: an estimate is sampled (stored and sent) once per ``sample_s``, levels move
through their trackers, a level change opens or moves the area's alert, reaching a plan's
trigger starts the area's emergency plan, and the forecast may predict the next level.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import NormalDist
from typing import Any, Protocol

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from lakeguard.crowd.alerts import (
    AlertRules,
    Level,
    LevelTracker,
    predicted_crossing,
    reading,
    sure_ratio,
)
from lakeguard.crowd.estimator import Estimate, EstimatorParams, VenueEstimator
from lakeguard.crowd.events import (
    AlertLevelChanged,
    AlertPredicted,
    OccupancySampled,
    SensorSilence,
)
from lakeguard.crowd.forecast import Forecast, forecast_series
from lakeguard.crowd.models import AlertRow, AlertTimelineRow, EstimateRow
from lakeguard.events import Event
from lakeguard.ingest.schema import Observation
from lakeguard.store.outbox import emit, emit_many
from lakeguard.venue.loader import Scenario
from lakeguard.venue.plans import CrowdAlertRules, EmergencyPlan

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:crowd"
OPEN_STATUSES = ("open", "acknowledged")
HORIZONS_S = (900, 1800, 3600)
LOOKAHEAD_S = 1800.0  # predictive alerts look this far ahead
HISTORY_STEPS = 20_160  # samples kept per area for the forecast: two weeks at 60 s
FORECAST_SEASON_S = 7 * 86_400  # a weekly profile: weekends are not weekdays


def utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


@dataclass
class _AreaWatch:
    """What the monitor keeps per area between cycles."""

    tracker: LevelTracker
    history: deque[float]  # occupancy, one sample per sample_s, oldest first
    last_sample: float | None = None
    judged_at: float | None = None  # data time of the last judgement
    predicted_at: float | None = None  # data time of the last forecast check
    forecast_from: float | None = None  # the newest sample that check saw
    alert_id: int | None = None  # the open alert, if any
    predicted: tuple[Level, float] | None = None
    silent: bool = False  # every sensor quiet (crowd.sensor_silence said so)


class CrowdMonitor:
    """Occupancy, alerts and plans for one venue."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        params: EstimatorParams | None = None,
        sample_s: float = 60.0,
        judge_s: float = 5.0,
        predict_s: float = 300.0,
        plan_runner: PlanRunner | None = None,
    ) -> None:
        self.scenario = scenario
        self.engine = VenueEstimator(scenario, params)
        book = scenario.plans
        self.rules: AlertRules = AlertRules.from_table(
            book.crowd_alerts if book else CrowdAlertRules()
        )
        self.sample_s = sample_s
        self.judge_s = judge_s
        self.predict_s = predict_s
        # Plans whose trigger was reached this cycle: started after the cycle commits, so the
        # alert is out on the stream without waiting for units to be chosen and dispatched.
        self.plans_due: list[tuple[EmergencyPlan, int, datetime]] = []
        self._samples: list[dict[str, Any]] = []  # estimate rows staged for the cycle's end
        self._sampled_events: list[Event] = []
        self.plan_runner = plan_runner
        self._names = {a.id: a.name.en for a in scenario.areas}
        self._watch = {
            a.id: _AreaWatch(LevelTracker(self.rules), deque(maxlen=HISTORY_STEPS))
            for a in scenario.areas
        }

    # --- start-up -------------------------------------------------------------------------

    def restore(self, session: Session) -> None:
        """Pick up the last stored estimate of each area and the alerts still open."""
        newest = (
            select(EstimateRow.area_id, func.max(EstimateRow.at).label("at"))
            .group_by(EstimateRow.area_id)
            .subquery()
        )
        rows = session.execute(
            select(EstimateRow).join(
                newest, (EstimateRow.area_id == newest.c.area_id) & (EstimateRow.at == newest.c.at)
            )
        ).scalars()
        for row in rows:
            if row.area_id in self._watch:
                t = row.at.timestamp()
                self.engine.restore(row.area_id, at=t, occupancy=row.occupancy, std=row.std)
                self._watch[row.area_id].last_sample = t
        alerts = session.scalars(
            select(AlertRow).where(
                AlertRow.venue_id == self.scenario.id, AlertRow.status.in_(OPEN_STATUSES)
            )
        )
        for alert in alerts:
            watch = self._watch.get(alert.area_id)
            if watch is not None:
                watch.alert_id = alert.id
                watch.tracker.level = Level(alert.level)

    # --- the ingest cycle -----------------------------------------------------------------

    def process(self, session: Session, observations: Sequence[Observation]) -> None:
        """Fold time-ordered observations in, judging each area as its data time moves on.

        An area is judged at most once per ``judge_s`` of its data time within a batch and
        once more at the batch's end, so a batch spanning minutes raises (or clears) an alert
        inside the same cycle, with the hold times measured on the observations' own clock.
        The forecast looks ahead once per batch at most, from its end: a batch spanning an
        hour of data would otherwise forecast each area a dozen times to keep only the last.
        """
        touched: set[str] = set()
        for obs in observations:
            self.engine.apply(obs)
            t = obs.at.timestamp()
            for area_id in self.engine.areas_of(obs.sensor_id):
                touched.add(area_id)
                judged = self._watch[area_id].judged_at
                if judged is None or t - judged >= self.judge_s:
                    self._evaluate(session, (area_id,), t)
        if observations:
            end = observations[-1].at.timestamp()
            self._evaluate(session, [a for a in touched if self._watch[a].judged_at != end], end)
            self._predict_areas(session, touched, end)
        self._store_samples(session)

    def _evaluate(self, session: Session, areas: Iterable[str], t: float) -> None:
        """Sample, judge and alert each area at time t (seconds since the epoch)."""
        for area_id in sorted(areas):
            estimate = self.engine.estimate(area_id, t)
            if estimate is None:
                continue
            watch = self._watch[area_id]
            watch.judged_at = t
            if estimate.silent != watch.silent:
                self._silence_changed(session, watch, estimate)
            self._sample(session, watch, estimate)
            if estimate.capacity is None and estimate.local_density is None:
                continue
            ratio, density = reading(estimate)
            new_level = watch.tracker.update(t, ratio, density, sure_ratio(self.rules, estimate))
            if new_level is not None:
                self._level_changed(session, watch, estimate, new_level)

    def _predict_areas(self, session: Session, areas: Iterable[str], t: float) -> None:
        """Look ahead for each area sampled since its last forecast, once per ``predict_s``."""
        for area_id in sorted(areas):
            watch = self._watch[area_id]
            due = watch.predicted_at is None or t - watch.predicted_at >= self.predict_s
            if not due or watch.last_sample is None or watch.last_sample == watch.forecast_from:
                continue
            estimate = self.engine.estimate(area_id, t)
            if estimate is None or not estimate.capacity:
                continue
            watch.predicted_at, watch.forecast_from = t, watch.last_sample
            self._predict(session, watch, estimate)

    def tick(self, session: Session, now: float) -> None:
        """Re-judge, at ``now``, every area that has had no data for ``judge_s``.

        Without it a network gone quiet would freeze every level where it stood; with it the
        estimates move on (unseen flows, widening intervals), silence is noticed, and alerts
        rise or clear on the clock.
        """
        self.engine.tick(now)
        stale = [
            a
            for a, w in self._watch.items()
            if w.judged_at is not None and now - w.judged_at >= self.judge_s
        ]
        self._evaluate(session, stale, now)
        self._predict_areas(session, stale, now)
        self._store_samples(session)

    def _silence_changed(self, session: Session, watch: _AreaWatch, estimate: Estimate) -> None:
        watch.silent = estimate.silent
        last = self.engine.last_heard(estimate.area_id)
        emit(
            session,
            SensorSilence(
                occurred_at=utc(estimate.at),
                area_id=estimate.area_id,
                silent=estimate.silent,
                since=None if last is None else utc(last),
                sensors=self.engine.sensors_of(estimate.area_id),
            ),
        )

    def mark_faulty(self, sensor_id: str, faulty: bool) -> None:
        """Exclude a sensor's reports until it is restored (the caller audits it)."""
        self.engine.mark_faulty(sensor_id, faulty)

    def manual_count(
        self, session: Session, area_id: str, *, at: float, count: float, std: float
    ) -> None:
        """An operator's head count as a measurement, judged at once."""
        self.engine.manual_count(area_id, at=at, count=count, std=std)
        self._evaluate(session, (area_id,), at)
        self._predict_areas(session, (area_id,), at)
        self._store_samples(session)

    def estimates(self, t: float) -> list[Estimate]:
        """Every observed area's estimate at time t."""
        found = (self.engine.estimate(a, t) for a in self._watch)
        return [e for e in found if e is not None]

    def densities(self, t: float) -> dict[str, float]:
        """Persons/m² per observed area, for routing through crowds."""
        return {e.area_id: e.density for e in self.estimates(t)}

    def forecast(self, area_id: str) -> list[Forecast]:
        watch = self._watch[area_id]
        if len(watch.history) < 2:
            return []
        values = np.fromiter(watch.history, dtype=float)
        return forecast_series(
            values, step_s=int(self.sample_s), horizons_s=HORIZONS_S, period_s=FORECAST_SEASON_S
        )

    def level(self, area_id: str) -> Level:
        return self._watch[area_id].tracker.level

    # --- steps of a cycle -----------------------------------------------------------------

    def _sample(self, session: Session, watch: _AreaWatch, estimate: Estimate) -> bool:
        if watch.last_sample is not None and estimate.at - watch.last_sample < self.sample_s:
            return False
        # Fill skipped steps with the value now so the history stays on a regular grid.
        if watch.last_sample is not None and watch.history:
            missing = int((estimate.at - watch.last_sample) // self.sample_s) - 1
            watch.history.extend([estimate.occupancy] * min(missing, HISTORY_STEPS))
        watch.last_sample = estimate.at
        watch.history.append(estimate.occupancy)
        at = utc(estimate.at)
        self._samples.append(
            {
                "area_id": estimate.area_id,
                "at": at,
                "occupancy": estimate.occupancy,
                "std": estimate.std,
                "density": estimate.density,
                "ratio": estimate.ratio,
            }
        )
        self._sampled_events.append(
            OccupancySampled(
                occurred_at=at,
                area_id=estimate.area_id,
                occupancy=round(estimate.occupancy, 1),
                std=round(estimate.std, 1),
                density=round(estimate.density, 4),
                level_of_service=estimate.level_of_service,
                ratio=None if estimate.ratio is None else round(estimate.ratio, 4),
            )
        )
        return True

    def _store_samples(self, session: Session) -> None:
        """Write the cycle's samples and their events in two bulk inserts.

        Hundreds of areas × minutes a cycle: one ORM object each would cost more than the
        rest of the cycle.
        """
        if self._samples:
            session.execute(insert(EstimateRow), self._samples)
            emit_many(session, self._sampled_events)
        self._samples, self._sampled_events = [], []

    def _open_alert(self, session: Session, watch: _AreaWatch, estimate: Estimate) -> AlertRow:
        if watch.alert_id is not None:
            with session.no_autoflush:  # the pending samples can wait for the commit
                alert = session.get(AlertRow, watch.alert_id)
            if alert is not None and alert.status in OPEN_STATUSES:
                return alert
        at = utc(estimate.at)
        ratio, density = reading(estimate)
        alert = AlertRow(
            venue_id=self.scenario.id,
            area_id=estimate.area_id,
            status="open",
            level=Level.NONE,
            peak_level=Level.NONE,
            cause=self.rules.cause(ratio, density),
            ratio=ratio,
            density=density,
            predicted_level=None,
            predicted_in_s=None,
            opened_at=at,
            changed_at=at,
            acknowledged_at=None,
            acknowledged_by=None,
            closed_at=None,
            closed_by=None,
        )
        session.add(alert)
        session.flush()
        watch.alert_id = alert.id
        return alert

    def _level_changed(
        self, session: Session, watch: _AreaWatch, estimate: Estimate, level: Level
    ) -> None:
        if level == Level.NONE and watch.alert_id is None:
            return
        alert = self._open_alert(session, watch, estimate)
        previous = Level(alert.level)
        ratio, density = reading(estimate)
        at = utc(estimate.at)
        alert.level, alert.changed_at = int(level), at
        alert.peak_level = max(alert.peak_level, int(level))
        alert.ratio, alert.density = ratio, density
        if level > Level.NONE:
            alert.cause = self.rules.cause(ratio, density)
        session.add(
            AlertTimelineRow(
                alert_id=alert.id,
                at=at,
                what="level",
                from_level=int(previous),
                to_level=int(level),
                actor=SYSTEM_ACTOR,
                note=self._describe(estimate),
            )
        )
        emit(
            session,
            AlertLevelChanged(
                occurred_at=at,
                alert_id=alert.id,
                area_id=alert.area_id,
                previous=previous.label,
                level=level.label,
                cause=alert.cause,
                ratio=ratio,
                density=density,
                **self._certainty(estimate, level),
            ),
        )
        plan = self.scenario.plans.emergency_for(alert.area_id) if self.scenario.plans else None
        if plan is not None and level >= Level.parse(plan.trigger) > previous:
            self.plans_due.append((plan, alert.id, at))

    def start_due_plans(self, session: Session) -> None:
        """Start the plans whose alerts reached their trigger since the last call."""
        due, self.plans_due = self.plans_due, []
        if self.plan_runner is None:
            return
        for plan, alert_id, at in due:
            alert = session.get(AlertRow, alert_id)
            if alert is not None:
                self.plan_runner.start(session, plan=plan, alert=alert, now=at, monitor=self)

    def _predict(self, session: Session, watch: _AreaWatch, estimate: Estimate) -> None:
        assert estimate.capacity is not None
        forecasts = self.forecast(estimate.area_id)
        found = predicted_crossing(
            self.rules,
            level=watch.tracker.level,
            occupancy=estimate.occupancy,
            capacity=estimate.capacity,
            forecasts=[(f.horizon_s, f.value) for f in forecasts],
            within_s=LOOKAHEAD_S,
        )
        previous, watch.predicted = watch.predicted, found
        if found is None:
            if previous is not None and watch.alert_id is not None:
                with session.no_autoflush:
                    alert = session.get(AlertRow, watch.alert_id)
                if alert is not None:
                    alert.predicted_level = alert.predicted_in_s = None
            return
        if previous is not None and previous[0] == found[0]:
            return  # the same level still predicted: said already
        alert = self._open_alert(session, watch, estimate)
        level, in_s = found
        if alert.level == Level.NONE:
            alert.cause = "forecast"
        alert.predicted_level, alert.predicted_in_s = int(level), round(in_s, 1)
        minutes = max(1, round(in_s / 60))
        message = (
            f"{self._names[estimate.area_id]} will reach {level.label} in about {minutes} minutes"
        )
        at = utc(estimate.at)
        session.add(
            AlertTimelineRow(
                alert_id=alert.id,
                at=at,
                what="predicted",
                from_level=alert.level,
                to_level=int(level),
                actor=SYSTEM_ACTOR,
                note=message,
            )
        )
        emit(
            session,
            AlertPredicted(
                occurred_at=at,
                alert_id=alert.id,
                area_id=estimate.area_id,
                level=level.label,
                in_s=round(in_s, 1),
                message=message,
            ),
        )

    def _certainty(self, estimate: Estimate, level: Level) -> dict[str, Any]:
        """The interval, the confidence in the level and the main sensors behind an estimate."""
        contributors = tuple(self.engine.contributors(estimate.area_id, estimate.at))
        cap = estimate.capacity
        if not cap:
            return {"contributors": contributors}
        confidence = None
        if level > Level.NONE and estimate.std > 0:
            limit = self.rules.threshold(level) * cap
            confidence = 1.0 - NormalDist(estimate.occupancy, estimate.std).cdf(limit)
        elif level > Level.NONE:
            confidence = float(
                estimate.ratio is not None and estimate.ratio >= self.rules.threshold(level)
            )
        return {
            "low80": round(estimate.low80 / cap, 4),
            "high80": round(estimate.high80 / cap, 4),
            "confidence": None if confidence is None else round(confidence, 3),
            "contributors": contributors,
        }

    def _describe(self, estimate: Estimate) -> str:
        share = f", {estimate.ratio:.0%} of capacity" if estimate.ratio is not None else ""
        local = (
            f", local density {estimate.local_density:.1f}/m²"
            if estimate.local_density is not None
            else ""
        )
        interval = f" (80 %: {estimate.low80:.0f}–{estimate.high80:.0f})"
        contributors = self.engine.contributors(estimate.area_id, estimate.at)
        sources = f"; mainly {', '.join(contributors)}" if contributors else ""
        return (
            f"about {estimate.occupancy:.0f} ± {estimate.std:.0f} people{interval}"
            f"{share}{local}{sources}"
        )


class PlanRunner(Protocol):
    """Starts an area's emergency plan when its alert reaches the trigger level."""

    def start(
        self,
        session: Session,
        *,
        plan: EmergencyPlan,
        alert: AlertRow,
        now: datetime,
        monitor: CrowdMonitor,
    ) -> None: ...
