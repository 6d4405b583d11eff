"""The field view's read: an officer's or guard's unit and the assignment it is working now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakeguard.api.state import ActiveVenue
from lakeguard.auth.audit import audit_read
from lakeguard.auth.roles import Principal
from lakeguard.incidents import service as incidents
from lakeguard.incidents.models import AssignmentRow, IncidentRow

# Assignments a unit is still working on, newest first when there are several.
ACTIVE = ("dispatched", "acknowledged", "on_scene")


def current_assignment(session: Session, *, unit_id: str) -> AssignmentRow | None:
    query = (
        select(AssignmentRow)
        .where(AssignmentRow.unit_id == unit_id, AssignmentRow.status.in_(ACTIVE))
        .order_by(AssignmentRow.dispatched_at.desc(), AssignmentRow.id.desc())
    )
    return session.scalars(query.limit(1)).first()


def _place(venue: ActiveVenue, incident: IncidentRow) -> dict[str, str]:
    area = next((a for a in venue.scenario.areas if a.id == incident.area_id), None)
    if area is None:
        return {"zh": incident.place, "en": incident.place}
    return {"zh": area.name.zh, "en": area.name.en}


def assignment_json(
    session: Session, venue: ActiveVenue, who: Principal, assignment: AssignmentRow, now: datetime
) -> dict[str, Any]:
    """The assignment with what the officer needs on the way: what, where, ETA and notes."""
    incident = incidents.get_incident(session, incident_id=assignment.incident_id)
    plan = venue.context.plans.get(incident.type)
    if plan is not None and plan.sensitive:
        # A lost child's description is personal data; the officer reads it, and it is logged.
        audit_read(session, who, "incident", str(incident.id), now)
    notes = [
        {"at": t.at.isoformat(), "note": t.note}
        for t in incidents.timeline_of(session, incident_id=incident.id)
        if t.note
    ]
    return {
        "incident_id": incident.id,
        "unit_id": assignment.unit_id,
        "status": assignment.status,
        "eta_s": assignment.eta_s,
        "dispatched_at": assignment.dispatched_at.isoformat(),
        "incident": {
            "type": incident.type,
            "type_name": plan.name.model_dump()
            if plan
            else {"zh": incident.type, "en": incident.type},
            "priority": incident.priority,
            "status": incident.status,
            "place": _place(venue, incident),
            "caller_place": incident.place,
            "lon": incident.lon,
            "lat": incident.lat,
            "description": incident.description,
            "sensitive": bool(plan and plan.sensitive),
            "steps": [s.model_dump() for s in plan.steps] if plan else [],
            "notes": notes,
        },
    }
