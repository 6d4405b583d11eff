"""What the dashboard and the field view read: the room's snapshot, the figures, my assignment."""

from __future__ import annotations

from pydantic import BaseModel

from lakeguard.clock import IsoTime
from lakeguard.crowd.models import AlertRead, EstimateRead, PlanStepRead
from lakeguard.incidents.models import BoardIncidentRead


class Bilingual(BaseModel):
    """A display text in Chinese and English (either may be what a caller said, even empty)."""

    zh: str
    en: str


class BoardUnitRead(BaseModel):
    """A unit as the map and the board need it: a tenth of the full record's size."""

    id: str
    callsign: str
    name: Bilingual
    kind: str
    capabilities: list[str]
    status: str
    label: str | None
    lon: float | None
    lat: float | None
    reported_at: IsoTime | None
    home: tuple[float, float] | None
    stale: bool


class BoardStepRead(PlanStepRead):
    run_id: int


class BoardAlertRead(AlertRead):
    """An alert with every step of its plans, each naming its run."""

    steps: list[BoardStepRead]


class ClockRead(BaseModel):
    now: IsoTime
    speed: float


class SnapshotRead(BaseModel):
    """Everything the dashboard keeps live, as of outbox sequence number ``seq``."""

    seq: int
    clock: ClockRead
    day_start: IsoTime
    max_age_s: float
    units: list[BoardUnitRead]
    incidents: list[BoardIncidentRead]
    alerts: list[BoardAlertRead]
    crowd: list[EstimateRead]


class FigureRead(BaseModel):
    key: str
    unit: str
    value: int | float | None


class FiguresRead(BaseModel):
    """Today's header figures, each with its unit."""

    day_start: IsoTime
    figures: list[FigureRead]


class NoteRead(BaseModel):
    at: IsoTime
    note: str


class FieldIncidentRead(BaseModel):
    type: str
    type_name: Bilingual
    priority: int
    status: str
    place: Bilingual
    caller_place: str
    lon: float
    lat: float
    description: str
    sensitive: bool
    steps: list[Bilingual]
    notes: list[NoteRead]


class FieldAssignmentRead(BaseModel):
    """The assignment with what the officer needs on the way: what, where, ETA and notes."""

    incident_id: int
    unit_id: str
    status: str
    eta_s: float | None
    dispatched_at: IsoTime
    incident: FieldIncidentRead


class MyAssignmentRead(BaseModel):
    """A field user's unit and the assignment it is working now (None when idle)."""

    seq: int
    unit: BoardUnitRead
    assignment: FieldAssignmentRead | None
