"""What people do with alerts and plans: acknowledge, close, tick off checklist steps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakeguard.crowd.alerts import Level
from lakeguard.crowd.events import AlertHandled
from lakeguard.crowd.models import AlertRow, AlertTimelineRow, PlanRunRow, PlanStepRow
from lakeguard.crowd.plan_runs import step_event
from lakeguard.errors import Conflict, Invalid, NotFound
from lakeguard.store.outbox import emit
from lakeguard.store.session import get_or_raise


class AlertNotFound(NotFound):
    def __init__(self, alert_id: int) -> None:
        super().__init__(f"no alert {alert_id}")


class StepNotFound(NotFound):
    def __init__(self, step_id: int) -> None:
        super().__init__(f"no plan step {step_id}")


class NotAllowedNow(Conflict):
    """The action does not fit the alert's or step's present state."""


class InvalidStepUpdate(Invalid):
    """A step update that breaks a rule of its own (a skip without a reason)."""


def get_alert(session: Session, alert_id: int, *, for_update: bool = False) -> AlertRow:
    query = select(AlertRow).where(AlertRow.id == alert_id)
    alert = session.scalars(query.with_for_update() if for_update else query).first()
    if alert is None:
        raise AlertNotFound(alert_id)
    return alert


def list_alerts(
    session: Session, *, venue_id: str, include_closed: bool = False, limit: int = 200
) -> list[AlertRow]:
    query = select(AlertRow).where(AlertRow.venue_id == venue_id)
    if not include_closed:
        query = query.where(AlertRow.status != "closed")
    return list(session.scalars(query.order_by(AlertRow.id.desc()).limit(limit)))


def timeline_of(session: Session, alert_id: int) -> list[AlertTimelineRow]:
    query = select(AlertTimelineRow).where(AlertTimelineRow.alert_id == alert_id)
    return list(session.scalars(query.order_by(AlertTimelineRow.id)))


def plan_of(session: Session, alert_id: int) -> list[tuple[PlanRunRow, list[PlanStepRow]]]:
    runs = session.scalars(
        select(PlanRunRow).where(PlanRunRow.alert_id == alert_id).order_by(PlanRunRow.id)
    )
    return [
        (
            run,
            list(
                session.scalars(
                    select(PlanStepRow)
                    .where(PlanStepRow.run_id == run.id)
                    .order_by(PlanStepRow.number)
                )
            ),
        )
        for run in runs
    ]


def _handled(
    session: Session, alert: AlertRow, *, what: str, actor: str, now: datetime, note: str
) -> None:
    session.add(
        AlertTimelineRow(
            alert_id=alert.id,
            at=now,
            what=what,
            from_level=alert.level,
            to_level=alert.level,
            actor=actor,
            note=note,
        )
    )
    emit(
        session,
        AlertHandled(
            occurred_at=now,
            alert_id=alert.id,
            area_id=alert.area_id,
            status=alert.status,
            actor=actor,
        ),
    )


def acknowledge_alert(
    session: Session, *, alert_id: int, actor: str, now: datetime, note: str = ""
) -> AlertRow:
    """Someone in the command room has seen the alert and owns it."""
    alert = get_alert(session, alert_id, for_update=True)
    if alert.status != "open":
        raise NotAllowedNow(
            f"alert {alert_id} is {alert.status}; only an open alert is acknowledged"
        )
    alert.status, alert.acknowledged_at, alert.acknowledged_by = "acknowledged", now, actor
    _handled(session, alert, what="acknowledged", actor=actor, now=now, note=note)
    return alert


def close_alert(
    session: Session, *, alert_id: int, actor: str, now: datetime, note: str = ""
) -> AlertRow:
    """Close an alert whose level has come back down; a standing level cannot be closed away."""
    alert = get_alert(session, alert_id, for_update=True)
    if alert.status == "closed":
        raise NotAllowedNow(f"alert {alert_id} is already closed")
    if alert.level != Level.NONE:
        raise NotAllowedNow(
            f"alert {alert_id} still stands at {Level(alert.level).label}; it can be closed "
            "once the level has cleared"
        )
    alert.status, alert.closed_at, alert.closed_by = "closed", now, actor
    _handled(session, alert, what="closed", actor=actor, now=now, note=note)
    return alert


def mark_step(
    session: Session, *, step_id: int, status: str, actor: str, now: datetime, note: str = ""
) -> PlanStepRow:
    """Tick a checklist step as done or skipped (with a note saying why)."""
    if status not in ("done", "skipped"):
        raise InvalidStepUpdate(f"a step is marked done or skipped, not {status!r}", field="status")
    step = get_or_raise(session, PlanStepRow, step_id, StepNotFound(step_id))
    if step.status in ("done", "skipped"):
        raise NotAllowedNow(f"step {step_id} is already {step.status}")
    if status == "skipped" and not note.strip():
        raise InvalidStepUpdate("say why the step is skipped (note)", field="note")
    step.status, step.done_at, step.done_by = status, now, actor
    if note:
        step.detail = {**step.detail, "note": note}
    emit(session, step_event(step, actor=actor, now=now))
    return step
