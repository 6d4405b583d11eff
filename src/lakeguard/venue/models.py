"""Venue tables. Geometry is GeoJSON in a JSON column, so SQLite and PostgreSQL share a schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, ForeignKey, ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from lakeguard.store.base import Base


class VenueRow(Base):
    __tablename__ = "venues"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[dict[str, Any]]
    timezone: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(default="")
    config: Mapped[dict[str, Any]]  # the whole venue.toml, validated
    plans: Mapped[dict[str, Any] | None]  # plans.toml, validated, when the scenario has one
    source: Mapped[str] = mapped_column(default="")
    loaded_at: Mapped[datetime]


class _VenueFeature:
    """Columns every venue feature table shares."""

    venue_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("venues.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int]  # order in the source file, so a stored scenario reads back the same
    properties: Mapped[dict[str, Any]]  # every field as given, for a faithful round trip
    geometry: Mapped[dict[str, Any]]


class StationRow(_VenueFeature, Base):
    __tablename__ = "stations"

    name: Mapped[dict[str, Any]]


class AreaRow(_VenueFeature, Base):
    __tablename__ = "areas"
    __table_args__ = (
        ForeignKeyConstraint(["venue_id", "station_id"], ["stations.venue_id", "stations.id"]),
    )

    name: Mapped[dict[str, Any]]
    domain: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    station_id: Mapped[str] = mapped_column(String(64))
    usable_m2: Mapped[float]
    capacity: Mapped[int | None]


class PostRow(_VenueFeature, Base):
    __tablename__ = "posts"
    __table_args__ = (
        ForeignKeyConstraint(["venue_id", "station_id"], ["stations.venue_id", "stations.id"]),
    )

    name: Mapped[dict[str, Any]]
    kind: Mapped[str] = mapped_column(String(16))
    domain: Mapped[str] = mapped_column(String(16))
    station_id: Mapped[str] = mapped_column(String(64))


class SensorRow(_VenueFeature, Base):
    __tablename__ = "sensors"
    __table_args__ = (
        ForeignKeyConstraint(["venue_id", "area_id"], ["areas.venue_id", "areas.id"]),
    )

    name: Mapped[dict[str, Any]]
    kind: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[str] = mapped_column(String(64))


class NetworkLineRow(_VenueFeature, Base):
    __tablename__ = "network_lines"

    modes: Mapped[list[str]] = mapped_column(JSON)


# -- what the API answers -------------------------------------------------------------------


class _Read(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VenueNameRead(_Read):
    zh: str
    en: str


class VenueSummaryRead(_Read):
    """Counts and totals of the active venue, with the size of its travel network."""

    id: str
    name: VenueNameRead
    timezone: str
    stations: int
    points: int
    segments: int
    domains: list[str]
    areas: int
    hotspots: int
    sensors: int
    network_nodes: int
    network_edges: int
    network_km: dict[str, float]
    capacity_total: int
    hotspot_capacity_total: int


class FeatureRead(_Read):
    type: Literal["Feature"]
    properties: dict[str, Any]
    geometry: dict[str, Any]


class FeatureCollectionRead(_Read):
    """One scenario layer as GeoJSON, as it would be written to its file."""

    type: Literal["FeatureCollection"]
    features: list[FeatureRead]


class HotspotCoverageRead(_Read):
    area_id: str
    name_en: str
    name_zh: str
    share: float
    capacity: int | None


class TravelTimeRead(_Read):
    mode: str
    seconds: float | None = Field(description="None when the destination cannot be reached")
