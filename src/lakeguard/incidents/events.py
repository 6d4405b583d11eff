"""Incident events, one type per topic."""

from __future__ import annotations

from typing import ClassVar

from lakeguard.events import Event


class IncidentCreated(Event):
    topic: ClassVar[str] = "incident.created"
    incident_id: int
    type: str
    priority: int
    lon: float
    lat: float
    area_id: str | None
    place: str


class IncidentStatusChanged(Event):
    topic: ClassVar[str] = "incident.status"
    incident_id: int
    previous: str | None
    status: str
    actor: str


class AssignmentStatusChanged(Event):
    topic: ClassVar[str] = "incident.assignment"
    incident_id: int
    unit_id: str
    previous: str | None
    status: str
    eta_s: float | None = None
    eta_p90_s: float | None = None
    actor: str
