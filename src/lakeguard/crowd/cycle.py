"""The crowd monitor as the ingest path's observation sink: one process-wide object."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from lakeguard.clock import Clock, WallClock
from lakeguard.crowd.monitor import CrowdMonitor
from lakeguard.crowd.plan_runs import DispatchingPlanRunner
from lakeguard.incidents.service import VenueContext
from lakeguard.ingest.schema import Observation
from lakeguard.store.session import transaction

log = logging.getLogger(__name__)

FREE_FLOW_DENSITY = 0.3  # persons/m²: Fruin's level A, walking at free speed


class CrowdRuntime:
    """Serialises ingest cycles: the monitor's memory and the database move together.

    One cycle runs at a time (a lock), inside one transaction. If the transaction fails, the
    monitor's memory is rebuilt from the database, so it never holds what was not stored.
    Provides ingest's ``ObservationSink``.
    """

    def __init__(
        self,
        context: VenueContext,
        sessions: sessionmaker[Session],
        *,
        max_age_s: float,
        clock: Clock | None = None,
    ) -> None:
        self.context = context
        self.sessions = sessions
        self.max_age_s = max_age_s
        self.lock = threading.Lock()
        # Called after each commit so the outbox relay publishes at once (set by the API).
        self.wake: Callable[[], None] | None = None
        self.monitor = self._fresh_monitor()
        self.clock: Clock = clock or WallClock()
        # The newest data time and when (venue clock) it was taken in: the clock tick runs on
        # from there, so a replayed or delayed stream is not overtaken by the wall clock.
        self._heard: tuple[float, datetime] | None = None

    def _fresh_monitor(self) -> CrowdMonitor:
        runner = DispatchingPlanRunner(self.context, max_age_s=self.max_age_s)
        monitor = CrowdMonitor(self.context.scenario, plan_runner=runner)
        with self.sessions() as session:
            monitor.restore(session)
        return monitor

    @contextmanager
    def cycle(self) -> Iterator[Session]:
        """One ingest cycle; after it commits, the relay is woken and due plans start."""
        with self.lock:
            try:
                with transaction(self.sessions) as session:
                    yield session
            except Exception:
                log.exception("ingest cycle failed; rebuilding the crowd state from the database")
                self.monitor = self._fresh_monitor()
                raise
            if self.monitor.engine.at is not None:
                self._heard = (self.monitor.engine.at, self.clock.now())
            self._wake()
            if self.monitor.plans_due:
                self._start_plans()

    def take(self, session: Session, observations: Sequence[Observation]) -> None:
        """Fold a cycle's new observations into the monitor: estimates, alerts, plans due."""
        self.monitor.process(session, observations)

    def tick(self, now: datetime) -> None:
        """Re-judge the areas that got no new data, at the data clock's time now."""
        with self.lock:
            if self._heard is None:
                return
            newest, taken = self._heard
            t = newest + max(0.0, (now - taken).total_seconds())
            try:
                with transaction(self.sessions) as session:
                    self.monitor.tick(session, t)
            except Exception:
                log.exception("crowd clock tick failed; rebuilding the crowd state")
                self.monitor = self._fresh_monitor()
                return
            self._wake()
            if self.monitor.plans_due:
                self._start_plans()

    def mark_faulty(self, sensor_id: str, faulty: bool) -> None:
        """Exclude a sensor's reports from the estimate until it is restored (in memory)."""
        with self.lock:
            self.monitor.mark_faulty(sensor_id, faulty)

    def manual_count(self, area_id: str, *, at: datetime, count: float, std: float) -> None:
        """An operator's head count folded in as a measurement, judged at once."""
        with self.lock:
            try:
                with transaction(self.sessions) as session:
                    self.monitor.manual_count(
                        session, area_id, at=at.timestamp(), count=count, std=std
                    )
            except Exception:
                self.monitor = self._fresh_monitor()
                raise
            self._wake()
            if self.monitor.plans_due:
                self._start_plans()

    def _start_plans(self) -> None:
        """Start the plans this cycle triggered, in their own transaction after it.

        A plan that fails to start (no route, a database error) leaves its alert standing
        and is logged; the alert is already stored and on the stream.
        """
        try:
            with transaction(self.sessions) as session:
                self.monitor.start_due_plans(session)
        except Exception:
            log.exception("an emergency plan could not be started")
        self._wake()

    def _wake(self) -> None:
        if self.wake is not None:
            self.wake()

    def densities(self, now: datetime) -> dict[str, float]:
        """Persons/m² per area where the crowd slows walkers: above Fruin's level A (0.3),
        the free-flow bound, so uncrowded areas leave routing on its fast path."""
        with self.lock:
            found = self.monitor.densities(now.timestamp())
        return {area: d for area, d in found.items() if d > FREE_FLOW_DENSITY}
