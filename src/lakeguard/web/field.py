"""The field view's read: an officer's or guard's unit and the assignment it is working now."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lakeguard.api.state import ActiveVenue
from lakeguard.auth.roles import Principal
from lakeguard.incidents import queries
from lakeguard.incidents import service as incidents
from lakeguard.incidents.models import AssignmentRow, IncidentRow
from lakeguard.web.models import Bilingual, FieldAssignmentRead, FieldIncidentRead, NoteRead


def _place(venue: ActiveVenue, incident: IncidentRow) -> Bilingual:
    area = next((a for a in venue.scenario.areas if a.id == incident.area_id), None)
    if area is None:
        return Bilingual(zh=incident.place, en=incident.place)
    return Bilingual(zh=area.name.zh, en=area.name.en)


def assignment_read(
    session: Session, venue: ActiveVenue, who: Principal, assignment: AssignmentRow
) -> FieldAssignmentRead:
    """The assignment with what the officer needs on the way: what, where, ETA and notes."""
    incident = queries.read_incident(
        session, incident_id=assignment.incident_id, plans=venue.context.plans, reader=who
    )
    plan = venue.context.plans.get(incident.type)
    notes = [
        NoteRead(at=t.at, note=t.note)
        for t in incidents.timeline_of(session, incident_id=incident.id)
        if t.note
    ]
    type_name = plan.name if plan else Bilingual(zh=incident.type, en=incident.type)
    return FieldAssignmentRead(
        incident_id=incident.id,
        unit_id=assignment.unit_id,
        status=assignment.status,
        eta_s=assignment.eta_s,
        dispatched_at=assignment.dispatched_at,
        incident=FieldIncidentRead(
            type=incident.type,
            type_name=Bilingual(zh=type_name.zh, en=type_name.en),
            priority=incident.priority,
            status=incident.status,
            place=_place(venue, incident),
            caller_place=incident.place,
            lon=incident.lon,
            lat=incident.lat,
            description=incident.description,
            sensitive=bool(plan and plan.sensitive),
            steps=[Bilingual(zh=s.zh, en=s.en) for s in plan.steps] if plan else [],
            notes=notes,
        ),
    )
