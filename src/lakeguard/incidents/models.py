"""Incident tables: incidents, the units assigned to them, and their timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lakeguard.clock import IsoTime
from lakeguard.store.base import Base, RowRead

_ID = BigInteger().with_variant(Integer(), "sqlite")


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    venue_id: Mapped[str] = mapped_column(String(64), ForeignKey("venues.id"), index=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    priority: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))
    lon: Mapped[float]
    lat: Mapped[float]
    area_id: Mapped[str | None] = mapped_column(String(64), index=True)
    station_id: Mapped[str | None] = mapped_column(String(64), index=True)
    place: Mapped[str] = mapped_column(default="")  # what the caller said, or the matched name
    description: Mapped[str] = mapped_column(default="")
    caller: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(64))


class AssignmentRow(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("incident_id", "unit_id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(_ID, ForeignKey("incidents.id"), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    eta_s: Mapped[float | None]  # the recommendation's estimate when dispatched (median)
    eta_p90_s: Mapped[float | None]  # ... and its 90th percentile
    reasons: Mapped[list[str]] = mapped_column(default=list)
    dispatched_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    on_scene_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class TimelineRow(Base):
    """One step of an incident: who moved what from which status to which, and when."""

    __tablename__ = "incident_timeline"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(_ID, ForeignKey("incidents.id"), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(default="")


# -- what the API answers -------------------------------------------------------------------


class _IncidentHead(RowRead):
    """What every view of an incident shows first: what, where, how urgent."""

    id: int
    type: str
    priority: int
    status: str
    source: str
    lon: float
    lat: float
    area_id: str | None
    station_id: str | None
    place: str


class IncidentRead(_IncidentHead):
    """An incident as the board lists it."""

    description: str
    received_at: IsoTime
    closed_at: IsoTime | None


class AssignmentRead(BaseModel):
    unit_id: str
    status: str
    eta_s: float | None
    eta_p90_s: float | None = None
    reasons: list[str]
    dispatched_at: IsoTime


class TimelineEntryRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    at: IsoTime
    unit_id: str | None
    from_: str | None = Field(alias="from")
    to: str
    actor: str


class IncidentDetailRead(IncidentRead):
    """One incident with its units and its timeline."""

    assignments: list[AssignmentRead]
    timeline: list[TimelineEntryRead]


class PickRead(BaseModel):
    unit_id: str
    eta_s: float = Field(description="median: expected turnout plus travel")
    eta_p90_s: float | None = Field(None, description="90th percentile of the same")
    capability: str | None
    reasons: list[str]


class ShortfallRead(BaseModel):
    capability: str | None
    missing: int
    code: str


class AlternativeRead(BaseModel):
    unit_id: str
    eta_s: float


class RecommendationRead(BaseModel):
    """Units to send, nearest first, and what the plan still lacks.

    ``alternatives``: when a unit is beyond the plan's travel target, the fastest other units
    within it (to hold the scene until the unit the plan needs arrives).
    """

    plan: str
    complete: bool
    considered: int
    units: list[PickRead]
    shortfalls: list[ShortfallRead]
    alternatives: list[AlternativeRead] = []


class DispatchRead(BaseModel):
    incident_id: int
    dispatched: list[str]


class AssignmentStatusRead(BaseModel):
    incident_id: int
    unit_id: str
    status: str


class IntervalSummary(BaseModel):
    count: int
    p50: float
    p90: float
    mean: float
    max: float


class ResponseMetricsRead(BaseModel):
    """NFPA 1710 intervals: per group key (``all`` when ungrouped), per interval."""

    since: IsoTime | None
    group_by: str | None
    intervals: dict[str, dict[str, IntervalSummary]]


class BoardAssignmentRead(BaseModel):
    unit_id: str
    status: str
    eta_s: float | None


class BoardIncidentRead(_IncidentHead):
    """An incident on the dashboard: no description (reading one is audited, one by one)."""

    received_at: IsoTime
    closed_at: IsoTime | None
    assignments: list[BoardAssignmentRead]
