"""Crowd events: alerts moving, plans starting and their steps, estimates sampled."""

from __future__ import annotations

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
