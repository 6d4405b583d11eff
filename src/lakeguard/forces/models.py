"""Forces tables (units, their status history and positions, security companies) and schemas.

Units refer to stations and posts by id without a database foreign key: loading a venue
replaces its feature rows, and units (with their history) must outlive that. The service
checks the references against the stored venue instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lakeguard.forces.engine import SHIFT_PATTERN, Capability, UnitKind, UnitStatus
from lakeguard.store.base import Base
from lakeguard.venue.schema import Mode, Name, Slug

_AUTO_ID = BigInteger().with_variant(Integer(), "sqlite")  # autoincrement on both


class CompanyRow(Base):
    """A security company whose guards are part of the patrol net."""

    __tablename__ = "companies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[dict[str, Any]]


class UnitRow(Base):
    __tablename__ = "units"
    __table_args__ = (
        # A unit answers to a police station or to a security company, never both.
        CheckConstraint("(station_id IS NULL) <> (company_id IS NULL)", name="one_owner"),
        UniqueConstraint("venue_id", "callsign", name="uq_units_venue_id_callsign"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    venue_id: Mapped[str] = mapped_column(String(64), index=True)
    callsign: Mapped[str] = mapped_column(String(32))
    name: Mapped[dict[str, Any]]
    kind: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    capabilities: Mapped[list[str]] = mapped_column(JSON)
    station_id: Mapped[str | None] = mapped_column(String(64))
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id"), index=True)
    home_post_id: Mapped[str | None] = mapped_column(String(64))
    shift: Mapped[str] = mapped_column(String(11), default="24h")
    device_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    status_label: Mapped[str | None] = mapped_column(String(32))
    status_changed_at: Mapped[datetime]
    # The latest position; the whole track is in unit_positions.
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    reported_at: Mapped[datetime | None]
    accuracy_m: Mapped[float | None]
    speed_ms: Mapped[float | None]
    bearing_deg: Mapped[float | None]
    battery: Mapped[float | None]
    seeded: Mapped[bool] = mapped_column(default=False)  # made by `lakeguard units seed`
    created_at: Mapped[datetime]


class UnitStatusRow(Base):
    """One status change (append-only)."""

    __tablename__ = "unit_status_history"
    __table_args__ = (Index("ix_unit_status_history_unit_id_at", "unit_id", "changed_at"),)

    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(32))
    previous: Mapped[str | None] = mapped_column(String(16))  # None: the unit was created
    actor: Mapped[str] = mapped_column(String(128))
    changed_at: Mapped[datetime]


class UnitPositionRow(Base):
    """One reported position (append-only), including those that arrived late."""

    __tablename__ = "unit_positions"
    __table_args__ = (Index("ix_unit_positions_unit_id_reported_at", "unit_id", "reported_at"),)

    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    lat: Mapped[float]
    lon: Mapped[float]
    reported_at: Mapped[datetime]
    received_at: Mapped[datetime]
    accuracy_m: Mapped[float | None]
    speed_ms: Mapped[float | None]
    bearing_deg: Mapped[float | None]
    altitude_m: Mapped[float | None]
    battery: Mapped[float | None]
    source: Mapped[str] = mapped_column(String(16))  # api, osmand, traccar_json, seed
    late: Mapped[bool] = mapped_column(default=False)  # older than the latest when it came
    attributes: Mapped[dict[str, Any]]


# -- schemas ----------------------------------------------------------------------------------


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitCreate(_Schema):
    id: Slug
    callsign: str = Field(min_length=1, max_length=32)
    name: Name
    kind: UnitKind
    mode: Mode
    capabilities: list[Capability] = Field(default_factory=list)
    station: Slug | None = Field(None, description="police station id; or give company")
    company: Slug | None = Field(None, description="security company id; or give station")
    home_post: Slug | None = Field(None, description="venue post id; may be empty for teams")
    shift: str = Field("24h", pattern=SHIFT_PATTERN, description="24h or HH:MM-HH:MM")
    device_id: str | None = Field(None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one_owner(self) -> UnitCreate:
        if (self.station is None) == (self.company is None):
            raise ValueError("give exactly one of station and company")
        return self


class UnitUpdate(_Schema):
    """Fields an administrator may change; an absent field is left as it is."""

    name: Name | None = None
    capabilities: list[Capability] | None = None
    home_post: Slug | None = None
    shift: str | None = Field(None, pattern=SHIFT_PATTERN)
    device_id: str | None = Field(None, min_length=1, max_length=64)


class StatusChange(_Schema):
    status: UnitStatus
    label: str | None = Field(None, description="a label code of that status, see status-labels")


class PositionIn(_Schema):
    """A position posted by an officer's app or a dispatcher (JSON)."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    timestamp: AwareDatetime = Field(description="when the position was taken, ISO 8601 UTC")
    accuracy_m: float | None = Field(None, ge=0, le=1e6)
    speed_ms: float | None = Field(None, ge=0, le=1e3)
    bearing_deg: float | None = Field(None, ge=0, le=360)
    altitude_m: float | None = Field(None, ge=-1e4, le=1e5)
    battery: float | None = Field(None, ge=0, le=100, description="percent")


class PositionRead(BaseModel):
    lat: float
    lon: float
    reported_at: datetime
    accuracy_m: float | None
    speed_ms: float | None
    bearing_deg: float | None
    battery: float | None


class LocationRead(BaseModel):
    lon: float
    lat: float
    source: str
    reason: str


class UnitRead(BaseModel):
    id: str
    callsign: str
    name: Name
    kind: UnitKind
    mode: Mode
    capabilities: list[str]
    station: str | None
    company: str | None
    home_post: str | None
    shift: str
    device_id: str | None
    status: UnitStatus
    status_label: str | None
    status_changed_at: datetime
    position: PositionRead | None
    stale: bool
    position_age_s: float | None
    location: LocationRead | None = Field(description="where dispatch assumes the unit is")


class PositionAccepted(BaseModel):
    unit_id: str
    reported_at: datetime
    latest: bool = Field(description="false when an earlier-sent position arrived late")
    stale: bool


class LabelRead(BaseModel):
    code: str
    name: Name


class StatusLabelsEntry(BaseModel):
    status: UnitStatus
    name: Name
    labels: list[LabelRead]


class StatusLabelsRead(BaseModel):
    """The base unit states with their names and, under each, the labels that map onto it."""

    statuses: list[StatusLabelsEntry]
