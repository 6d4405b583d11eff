"""Crowd tables: sampled estimates, alerts and their timeline, emergency plan runs and steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lakeguard.store.base import Base

_ID = BigInteger().with_variant(Integer(), "sqlite")


class EstimateRow(Base):
    """An area's occupancy, sampled once per sampling step: the history the series shows."""

    __tablename__ = "crowd_estimates"
    __table_args__ = (Index("ix_crowd_estimates_area_at", "area_id", "at"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    area_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    occupancy: Mapped[float]
    std: Mapped[float]
    density: Mapped[float]
    ratio: Mapped[float | None]


class AlertRow(Base):
    """One alert episode of an area: raised, moving between levels, cleared, closed by a person."""

    __tablename__ = "crowd_alerts"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    venue_id: Mapped[str] = mapped_column(String(64), index=True)
    area_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open, acknowledged, closed
    level: Mapped[int]  # the level now (0 once cleared)
    peak_level: Mapped[int]
    cause: Mapped[str] = mapped_column(String(16))  # capacity, density or forecast
    ratio: Mapped[float | None]
    density: Mapped[float | None]
    predicted_level: Mapped[int | None]
    predicted_in_s: Mapped[float | None]
    opened_at: Mapped[datetime]
    changed_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(128))


class AlertTimelineRow(Base):
    __tablename__ = "crowd_alert_timeline"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(_ID, ForeignKey("crowd_alerts.id"), index=True)
    at: Mapped[datetime]
    what: Mapped[str] = mapped_column(String(32))  # level, predicted, acknowledged, closed
    from_level: Mapped[int | None]
    to_level: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(default="")


class PlanRunRow(Base):
    """An emergency plan started by an alert."""

    __tablename__ = "crowd_plan_runs"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(_ID, ForeignKey("crowd_alerts.id"), index=True)
    area_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    level: Mapped[int]


class PlanStepRow(Base):
    """One checklist item of a plan run."""

    __tablename__ = "crowd_plan_steps"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(_ID, ForeignKey("crowd_plan_runs.id"), index=True)
    number: Mapped[int]  # 1-based, in plan order
    action: Mapped[str] = mapped_column(String(32))
    text_zh: Mapped[str]
    text_en: Mapped[str]
    owner: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # pending, done, skipped, short
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(128))
    incident_id: Mapped[int | None] = mapped_column(_ID)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
