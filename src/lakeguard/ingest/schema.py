"""What a sensor sends: one JSON object per observation, of four kinds.

- ``crossing``: a counting line's ``in`` and ``out`` over a window ending at ``at``;
- ``count``: a camera's or a drone's count of the people in its field of view, and the fraction
  of the area that view covers;
- ``density``: persons per m² estimated over the field of view;
- ``status``: the sensor going online or offline (MQTT last will included).

``in`` means into the sensor's area. Timestamps must carry a time zone (any zone).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from lakeguard.venue.schema import SensorKind

EventId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
SensorId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]

MAX_BATCH = 10_000


class ObservationKind(StrEnum):
    CROSSING = "crossing"
    COUNT = "count"
    DENSITY = "density"
    STATUS = "status"


# Which sensor kinds may send which observation kinds. Checkpoints count vehicles and people
# passing a line, as gates do; drones and cameras look at an area.
ACCEPTS: dict[SensorKind, frozenset[ObservationKind]] = {
    SensorKind.GATE: frozenset({ObservationKind.CROSSING, ObservationKind.STATUS}),
    SensorKind.CHECKPOINT: frozenset({ObservationKind.CROSSING, ObservationKind.STATUS}),
    SensorKind.CAMERA: frozenset(
        {ObservationKind.COUNT, ObservationKind.DENSITY, ObservationKind.STATUS}
    ),
    SensorKind.DRONE_STATION: frozenset(
        {ObservationKind.COUNT, ObservationKind.DENSITY, ObservationKind.STATUS}
    ),
}


class _Observation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    event_id: EventId
    sensor_id: SensorId
    # Any zone is accepted and kept as sent; what is stored and computed is the instant.
    at: AwareDatetime


class Crossing(_Observation):
    kind: Literal["crossing"]
    window_s: float = Field(gt=0, le=3600)
    entered: int = Field(alias="in", ge=0, le=1_000_000)
    exited: int = Field(alias="out", ge=0, le=1_000_000)


class AreaCount(_Observation):
    kind: Literal["count"]
    count: int = Field(ge=0, le=10_000_000)
    coverage: float = Field(1.0, gt=0, le=1)


class DensityEstimate(_Observation):
    kind: Literal["density"]
    persons_per_m2: float = Field(ge=0, le=15)
    coverage: float = Field(1.0, gt=0, le=1)


class SensorStatus(_Observation):
    kind: Literal["status"]
    online: bool


Observation = Annotated[
    Crossing | AreaCount | DensityEstimate | SensorStatus, Field(discriminator="kind")
]
OBSERVATION = TypeAdapter(Observation)
OBSERVATIONS = TypeAdapter(list[Observation])


class Reject(BaseModel):
    """One observation of a batch that was refused, and why."""

    index: int
    event_id: str | None
    reason: str


class BatchResult(BaseModel):
    accepted: int = Field(description="new observations stored and applied")
    duplicates: int = Field(description="observations already received (same sensor and event_id)")
    rejected: list[Reject]


def event_id_of(item: Any) -> str | None:
    """The event id of a raw item, if it has a usable one (for naming a reject)."""
    if isinstance(item, dict):
        value = item.get("event_id")
        if isinstance(value, str):
            return value[:128]
    return None
