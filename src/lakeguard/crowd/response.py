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
from lakeguard.crowd.plans import EmergencyPlan, PlanStep, StepAction
from lakeguard.incidents import service as incidents
from lakeguard.incidents.plans import Requirement
from lakeguard.store.outbox import emit

if TYPE_CHECKING:
    from lakeguard.crowd.service import CrowdMonitor

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
            if step.action == StepAction.DISPATCH:
                self._dispatch(session, row, step, plan, now, monitor)
            emit(session, step_event(row, actor="system:crowd", now=now))

    def _dispatch(
        self,
        session: Session,
        row: PlanStepRow,
        step: PlanStep,
        plan: EmergencyPlan,
        now: datetime,
        monitor: CrowdMonitor,
    ) -> None:
        assert step.post is not None
        post = self._posts[step.post]
        # A segment post is met at its middle.
        spot = (
            post.shape.interpolate(0.5, normalized=True) if post.kind == "segment" else post.shape
        )
        incident = incidents.create_incident(
            session,
            venue=self.context,
            type=plan.incident_type,
            source="sensor_alert",
            actor="system:crowd",
            now=now,
            lon=spot.x,
            lat=spot.y,
            place=post.name.zh,
            description=f"{plan.name.en}, step {row.number}: {step.text.en}",
        )
        response = self.context.plan(plan.incident_type)
        wanted = response.model_copy(
            update={"requires": (Requirement(capability=step.capability, count=step.count),)}
        )
        rec = incidents.recommend_for(
            session,
            venue=self.context,
            incident=incident,
            now=now,
            max_age_s=self.max_age_s,
            densities=monitor.densities(now.timestamp()),
            plan=wanted,
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
