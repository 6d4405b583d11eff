"""Patrol answers: a day's compliance per unit."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class StopRead(BaseModel):
    point_id: str
    start: float = Field(description="seconds since the epoch")
    duration_s: float


class UnitComplianceRead(BaseModel):
    """One unit's day at its post; shares are None when the track says nothing."""

    unit_id: str
    callsign: str
    kind: str
    post_id: str
    post_kind: str
    fixes: int
    on_duty_s: float = Field(description="shift time not spent on dispatches")
    tracked_s: float = Field(description="on-duty time the positions account for")
    walked_share: float | None = Field(description="segments: share of the length walked")
    away_share: float | None = Field(description="share of tracked time away from the post")
    stops: list[StopRead]
    koper_stops: int = Field(description="stops at hotspot points of 10 to 15 minutes")


class ComplianceRead(BaseModel):
    date: date
    units: list[UnitComplianceRead]
