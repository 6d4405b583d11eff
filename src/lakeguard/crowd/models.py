"""Crowd tables: sampled estimates, alerts and their timeline, emergency plan runs and steps."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Self

from pydantic import BaseModel
from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lakeguard.clock import IsoTime
from lakeguard.crowd.alerts import Level
from lakeguard.crowd.estimator import Estimate
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


# -- what the API answers -------------------------------------------------------------------


def _label(level: int | None) -> str | None:
    return None if level is None else Level(level).label


class SensorFaultRead(BaseModel):
    """A sensor's fault mark as it now stands."""

    sensor_id: str
    faulty: bool


class EstimateRead(BaseModel):
    """An area's occupancy now, with its alert level."""

    area_id: str
    at: IsoTime
    occupancy: float
    std: float
    low80: float  # the central 80 % interval, in persons
    high80: float
    density: float
    level_of_service: str
    capacity: int | None
    ratio: float | None
    local_density: float | None
    anchored: bool
    silent: bool  # every sensor of the area has been quiet for a while
    level: str

    @classmethod
    def of(cls, e: Estimate, level: Level) -> Self:
        return cls(
            area_id=e.area_id,
            at=datetime.fromtimestamp(e.at, UTC),
            occupancy=round(e.occupancy, 1),
            std=round(e.std, 1),
            low80=round(e.low80, 1),
            high80=round(e.high80, 1),
            density=round(e.density, 4),
            level_of_service=e.level_of_service,
            capacity=e.capacity,
            ratio=None if e.ratio is None else round(e.ratio, 4),
            local_density=e.local_density,
            anchored=e.anchored,
            silent=e.silent,
            level=level.label,
        )


class AlertRead(BaseModel):
    id: int
    area_id: str
    area: str | None
    status: str
    level: str
    peak_level: str
    cause: str
    ratio: float | None
    density: float | None
    predicted_level: str | None
    predicted_in_s: float | None
    opened_at: IsoTime
    changed_at: IsoTime
    acknowledged_at: IsoTime | None
    acknowledged_by: str | None
    closed_at: IsoTime | None
    closed_by: str | None

    @classmethod
    def of(cls, row: AlertRow, names: Mapping[str, str]) -> Self:
        """``names``: area names by id."""
        return cls(
            id=row.id,
            area_id=row.area_id,
            area=names.get(row.area_id),
            status=row.status,
            level=Level(row.level).label,
            peak_level=Level(row.peak_level).label,
            cause=row.cause,
            ratio=row.ratio,
            density=row.density,
            predicted_level=_label(row.predicted_level),
            predicted_in_s=row.predicted_in_s,
            opened_at=row.opened_at,
            changed_at=row.changed_at,
            acknowledged_at=row.acknowledged_at,
            acknowledged_by=row.acknowledged_by,
            closed_at=row.closed_at,
            closed_by=row.closed_by,
        )


class StepText(BaseModel):
    zh: str
    en: str


class PlanStepRead(BaseModel):
    id: int
    number: int
    action: str
    text: StepText
    owner: str
    due_at: IsoTime
    status: str
    done_at: IsoTime | None
    done_by: str | None
    incident_id: int | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, row: PlanStepRow) -> Self:
        return cls(
            id=row.id,
            number=row.number,
            action=row.action,
            text=StepText(zh=row.text_zh, en=row.text_en),
            owner=row.owner,
            due_at=row.due_at,
            status=row.status,
            done_at=row.done_at,
            done_by=row.done_by,
            incident_id=row.incident_id,
            detail=row.detail,
        )


class AlertTimelineEntryRead(BaseModel):
    at: IsoTime
    what: str
    from_level: str | None
    to_level: str | None
    actor: str
    note: str

    @classmethod
    def of(cls, row: AlertTimelineRow) -> Self:
        return cls(
            at=row.at,
            what=row.what,
            from_level=_label(row.from_level),
            to_level=_label(row.to_level),
            actor=row.actor,
            note=row.note,
        )


class PlanRunRead(BaseModel):
    run_id: int
    started_at: IsoTime
    steps: list[PlanStepRead]


class AlertDetailRead(AlertRead):
    """An alert with its timeline and its emergency plan checklists."""

    timeline: list[AlertTimelineEntryRead]
    plans: list[PlanRunRead]


class SeriesPointRead(BaseModel):
    at: IsoTime
    occupancy: float
    std: float
    ratio: float | None


class ForecastPointRead(BaseModel):
    horizon_s: int
    value: float
    low: float
    high: float


class SeriesRead(BaseModel):
    """An area's sampled history and its forecast."""

    area_id: str
    history: list[SeriesPointRead]
    forecast: list[ForecastPointRead]
