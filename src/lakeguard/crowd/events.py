"""Crowd events: alerts moving, plans starting and their steps, estimates sampled."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from lakeguard.events import Event


class OccupancySampled(Event):
    """An area's estimate, once per sampling step: what a live map shows."""

    topic: ClassVar[str] = "crowd.occupancy"
    area_id: str
    occupancy: float
    std: float
    density: float
    level_of_service: str
    ratio: float | None


class AlertLevelChanged(Event):
    """An alert's level moved (raised, raised further, lowered, cleared to none)."""

    topic: ClassVar[str] = "crowd.alert.level"
    alert_id: int
    area_id: str
    previous: str
    level: str
    cause: str
    ratio: float | None
    density: float | None
    # The estimate behind it: its central 80 % interval, as capacity ratios, and how likely
    # the area really is at or above the new level's threshold.
    low80: float | None = None
    high80: float | None = None
    confidence: float | None = None
    contributors: tuple[str, ...] = ()  # the sensors that moved the estimate most recently


class SensorSilence(Event):
    """Every sensor of an area has gone quiet (``silent``), or one is heard again."""

    topic: ClassVar[str] = "crowd.sensor_silence"
    area_id: str
    silent: bool
    since: datetime | None  # the last report heard from any of its sensors
    sensors: tuple[str, ...]


class AlertPredicted(Event):
    """The forecast crosses a level within the look-ahead ("red in about 12 minutes")."""

    topic: ClassVar[str] = "crowd.alert.predicted"
    alert_id: int
    area_id: str
    level: str
    in_s: float
    message: str


class AlertHandled(Event):
    """A person acknowledged or closed an alert."""

    topic: ClassVar[str] = "crowd.alert.handled"
    alert_id: int
    area_id: str
    status: str
    actor: str


class PlanStarted(Event):
    topic: ClassVar[str] = "crowd.plan.started"
    run_id: int
    alert_id: int
    area_id: str
    plan: str
    steps: int


class PlanStepChanged(Event):
    topic: ClassVar[str] = "crowd.plan.step"
    run_id: int
    step_id: int
    number: int
    action: str
    status: str
    actor: str
    incident_id: int | None = None
    units: list[str] = Field(default_factory=list)
