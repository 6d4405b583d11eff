"""What the twin knows about its own day: the truth it played and what it sent.

The report sets these beside what the platform recorded (incidents, timelines, alerts), so a
difference between the two is visible rather than averaged away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from lakeguard.twin.frame import CrowdFrame

STEPS_PER_DAY = 1440


@dataclass
class SentIncident:
    seq: int
    t_s: float
    type: str
    area_id: str  # where it really happened
    incident_id: int | None = None  # the platform's id, once reported
    reason_open: str | None = None  # why it was still open when the day ended, if it was


@dataclass
class Dispatch:
    incident_id: int
    unit_id: str
    t_s: float  # when the platform dispatched it
    eta_s: float | None  # the platform's estimate
    on_scene_s: float  # when the twin's unit reached the scene
    free_flow_s: float  # fastest the unit could have made it (turnout + free-flow travel)
    # What the ETA's error is made of (see the report's ``eta_error_parts``): the trip the twin
    # planned, where the unit truly was, and where the platform believed it was (the last
    # position the twin reported for it; None when it had reported none).
    mode: str = "walk"
    turnout_s: float = 0.0
    travel_s: float = 0.0
    true_from: tuple[float, float] | None = None
    believed_from: tuple[float, float] | None = None
    believed_age_s: float | None = None
    scene: tuple[float, float] | None = None
    pointed: bool = False  # the caller gave coordinates, not a place name
    eta_p90_s: float | None = None  # the upper end of the platform's range, if it gave one


@dataclass
class TwinRecord:
    area_ids: tuple[str, ...]
    step_s: float = 60.0
    occupancy: npt.NDArray[np.int32] = field(init=False)
    in_venue: npt.NDArray[np.int64] = field(init=False)
    arrived: npt.NDArray[np.int64] = field(init=False)
    departed: npt.NDArray[np.int64] = field(init=False)
    entries: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)  # gate in-counts
    exits: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)  # gate out-counts
    incidents: list[SentIncident] = field(default_factory=list)
    dispatches: list[Dispatch] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    open_reasons: dict[int, str] = field(default_factory=dict)  # platform incident id -> why
    observations_sent: int = 0
    observations_refused: int = 0
    positions_sent: int = 0
    steps: int = 0

    def __post_init__(self) -> None:
        n = round(86_400 / self.step_s)
        self.occupancy = np.zeros((n, len(self.area_ids)), dtype=np.int32)
        self.in_venue = np.zeros(n, dtype=np.int64)
        self.arrived = np.zeros(n, dtype=np.int64)
        self.departed = np.zeros(n, dtype=np.int64)

    def add_frame(self, frame: CrowdFrame) -> None:
        """Keep one step's truth (indexed by the step the frame ends)."""
        i = min(round(frame.t_s / self.step_s) - 1, len(self.in_venue) - 1)
        self.occupancy[i] = frame.occupancy
        self.in_venue[i] = frame.in_venue
        self.arrived[i] = frame.arrived
        self.departed[i] = frame.departed
        for counts, into in ((frame.gate_in, self.entries), (frame.gate_out, self.exits)):
            for sensor, count in counts.items():
                if sensor not in into:
                    into[sensor] = np.zeros(len(self.in_venue), dtype=np.int64)
                into[sensor][i] += count
        self.steps += 1

    def sent(self, incident_id: int) -> SentIncident | None:
        for item in self.incidents:
            if item.incident_id == incident_id:
                return item
        return None
