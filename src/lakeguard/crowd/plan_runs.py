"""Emergency plans running: a checklist per alert, dispatch steps carried out at once.

A dispatch step opens an incident of the plan's type at the step's post and sends the units
the recommendation picks for the step's own requirement (``count`` units with ``capability``),
routed through the crowd as it is now. Whatever the recommendation cannot fill is recorded on
the step as a shortfall (status ``short``) for the dispatcher to make up by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from lakeguard.crowd.events import PlanStarted, PlanStepChanged
from lakeguard.crowd.models import AlertRow, PlanRunRow, PlanStepRow
from lakeguard.incidents import service as incidents
from lakeguard.incidents.engine import Recommendation, recommend
from lakeguard.store.outbox import emit
from lakeguard.venue.plans import EmergencyPlan, PlanStep, Requirement, StepAction

if TYPE_CHECKING:
    from lakeguard.crowd.monitor import CrowdMonitor

STEP_STATUSES = ("pending", "done", "skipped", "short")


class DispatchingPlanRunner:
    """Starts plans for a venue, dispatching through the incident service."""

    def __init__(self, context: incidents.VenueContext, *, max_age_s: float) -> None:
        self.context = context
        self.max_age_s = max_age_s
        self._posts = {p.id: p for p in context.scenario.posts}

    def start(
        self,
        session: Session,
        *,
        plan: EmergencyPlan,
        alert: AlertRow,
        now: datetime,
        monitor: CrowdMonitor,
    ) -> None:
        # Choose every dispatch step's units before writing anything: on SQLite the first
        # write takes the database's write lock, and choosing units reads the whole roster.
        chosen = self._choose_units(session, plan, now, monitor)
        run = PlanRunRow(
            alert_id=alert.id, area_id=alert.area_id, started_at=now, level=alert.level
        )
        session.add(run)
        session.flush()
        emit(
            session,
            PlanStarted(
                occurred_at=now,
                run_id=run.id,
                alert_id=alert.id,
                area_id=alert.area_id,
                plan=plan.name.en,
                steps=len(plan.steps),
            ),
        )
        for number, step in enumerate(plan.steps, start=1):
            row = PlanStepRow(
                run_id=run.id,
                number=number,
                action=step.action.value,
                text_zh=step.text.zh,
                text_en=step.text.en,
                owner=step.owner,
                due_at=now + timedelta(seconds=step.due_s),
                status="pending",
                done_at=None,
                done_by=None,
                incident_id=None,
                detail={},
            )
            session.add(row)
            session.flush()
            if number in chosen:
                self._dispatch(session, row, step, plan, now, chosen[number])
            emit(session, step_event(row, actor="system:crowd", now=now))

    def _spot(self, step: PlanStep) -> tuple[float, float]:
        assert step.post is not None
        post = self._posts[step.post]
        spot = post.shape
        if post.kind == "segment":
            spot = spot.interpolate(0.5, normalized=True)  # a segment post is met at its middle
        return float(spot.x), float(spot.y)

    def _choose_units(
        self, session: Session, plan: EmergencyPlan, now: datetime, monitor: CrowdMonitor
    ) -> dict[int, Recommendation]:
        """Each dispatch step's recommendation (by step number), no unit chosen twice."""
        steps = [
            (n, s) for n, s in enumerate(plan.steps, start=1) if s.action == StepAction.DISPATCH
        ]
        if not steps:
            return {}
        candidates = incidents.candidates_now(
            session, venue=self.context, now=now, max_age_s=self.max_age_s
        )
        densities = monitor.densities(now.timestamp())
        response = self.context.plan(plan.incident_type)
        taken: set[str] = set()
        chosen: dict[int, Recommendation] = {}
        for number, step in steps:
            free = [c for c in candidates if c.unit_id not in taken]
            wanted = response.model_copy(
                update={"requires": (Requirement(capability=step.capability, count=step.count),)}
            )
            rec = recommend(
                self.context.network,
                self.context.pool_for(free),
                wanted,
                self._spot(step),
                densities=densities,
            )
            taken.update(p.unit_id for p in rec.picks)
            chosen[number] = rec
        return chosen

    def _dispatch(
        self,
        session: Session,
        row: PlanStepRow,
        step: PlanStep,
        plan: EmergencyPlan,
        now: datetime,
        rec: Recommendation,
    ) -> None:
        assert step.post is not None
        lon, lat = self._spot(step)
        incident = incidents.create_incident(
            session,
            venue=self.context,
            type=plan.incident_type,
            source="sensor_alert",
            actor="system:crowd",
            now=now,
            lon=lon,
            lat=lat,
            place=self._posts[step.post].name.zh,
            description=f"{plan.name.en}, step {row.number}: {step.text.en}",
        )
        units = [(p.unit_id, p.eta_s, [r.value for r in p.reasons]) for p in rec.picks]
        if units:
            incidents.dispatch_units(
                session, incident_id=incident.id, units=units, actor="system:crowd", now=now
            )
        missing = sum(g.missing for g in rec.gaps)
        row.incident_id = incident.id
        row.detail = {
            "units": [u for u, _, _ in units],
            "eta_s": {u: round(eta, 1) for u, eta, _ in units if eta is not None},
            "missing": missing,
            "gaps": [g.code.value for g in rec.gaps],
        }
        row.status = "short" if missing else "done"
        row.done_at, row.done_by = now, "system:crowd"


def step_event(row: PlanStepRow, *, actor: str, now: datetime) -> PlanStepChanged:
    units = row.detail.get("units", []) if row.detail else []
    return PlanStepChanged(
        occurred_at=now,
        run_id=row.run_id,
        step_id=row.id,
        number=row.number,
        action=row.action,
        status=row.status,
        actor=actor,
        incident_id=row.incident_id,
        units=list(units),
    )
