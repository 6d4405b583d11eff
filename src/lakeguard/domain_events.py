"""The explicit list of every event type, one import per domain that has events."""

from __future__ import annotations

from lakeguard.community.events import CaseReminder, CaseStatusChanged
from lakeguard.crowd.events import (
    AlertHandled,
    AlertLevelChanged,
    AlertPredicted,
    OccupancySampled,
    PlanStarted,
    PlanStepChanged,
    SensorSilence,
)
from lakeguard.events import Event
from lakeguard.forces.events import UnitPositionReported, UnitStatusChanged
from lakeguard.incidents.events import (
    AssignmentStatusChanged,
    IncidentCreated,
    IncidentStatusChanged,
)
from lakeguard.notify.events import BroadcastSent

EVENT_TYPES: tuple[type[Event], ...] = (
    IncidentCreated,
    IncidentStatusChanged,
    AssignmentStatusChanged,
    UnitStatusChanged,
    UnitPositionReported,
    OccupancySampled,
    AlertLevelChanged,
    AlertPredicted,
    AlertHandled,
    PlanStarted,
    PlanStepChanged,
    SensorSilence,
    CaseStatusChanged,
    CaseReminder,
    BroadcastSent,
)
