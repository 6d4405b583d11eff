"""Incident tables: incidents, the units assigned to them, and their timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lakeguard.store.base import Base

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
    eta_s: Mapped[float | None]  # the recommendation's estimate when dispatched
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
