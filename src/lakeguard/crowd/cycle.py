"""The crowd monitor and the ingest path as one process-wide object, used by HTTP and MQTT."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from lakeguard.crowd.plan_runs import DispatchingPlanRunner
from lakeguard.crowd.monitor import CrowdMonitor
from lakeguard.incidents.service import VenueContext
from lakeguard.ingest.schema import BatchResult
from lakeguard.ingest.service import Ingestor, check_batch_size
from lakeguard.store.session import transaction

log = logging.getLogger(__name__)

FREE_FLOW_DENSITY = 0.3  # persons/m²: Fruin's level A, walking at free speed


class CrowdRuntime:
    """Serialises ingest cycles: the monitor's memory and the database move together.

    One cycle runs at a time (a lock), inside one transaction. If the transaction fails, the
    monitor's memory is rebuilt from the database, so it never holds what was not stored.
    """

    def __init__(
        self, context: VenueContext, sessions: sessionmaker[Session], *, max_age_s: float
    ) -> None:
        self.context = context
        self.sessions = sessions
        self.max_age_s = max_age_s
        self.lock = threading.Lock()
        # Called after each commit so the outbox relay publishes at once (set by the API).
        self.wake: Callable[[], None] | None = None
        self.monitor = self._fresh_monitor()
        self.ingestor = Ingestor(context.scenario, self.monitor)
        # The newest data time and when (venue clock) it was taken in: the clock tick runs on
        # from there, so a replayed or delayed stream is not overtaken by the wall clock.
        self._heard: tuple[float, datetime] | None = None

    def _fresh_monitor(self) -> CrowdMonitor:
        runner = DispatchingPlanRunner(self.context, max_age_s=self.max_age_s)
        monitor = CrowdMonitor(self.context.scenario, plan_runner=runner)
        with self.sessions() as session:
            monitor.restore(session)
        return monitor

    def ingest(
        self,
        items: Sequence[Any],
        *,
        sender: str,
        source: str,
        now: datetime,
        only_sensor: str | None = None,
    ) -> BatchResult:
        check_batch_size(items)  # before the lock and the state: nothing to undo
        with self.lock:
            try:
                with transaction(self.sessions) as session:
                    result = self.ingestor.ingest(
                        session,
                        items,
                        sender=sender,
                        source=source,
                        now=now,
                        only_sensor=only_sensor,
                    )
            except Exception:
                log.exception("ingest cycle failed; rebuilding the crowd state from the database")
                self.monitor = self._fresh_monitor()
                self.ingestor = Ingestor(self.context.scenario, self.monitor)
                raise
            if self.monitor.engine.at is not None:
                self._heard = (self.monitor.engine.at, now)
            self._wake()
            if self.monitor.plans_due:
                self._start_plans()
        return result

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
                self.ingestor = Ingestor(self.context.scenario, self.monitor)
                return
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
