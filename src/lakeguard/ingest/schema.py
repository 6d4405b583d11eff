"""What a sensor sends: one JSON object per observation, of four kinds.

- ``crossing``: a counting line's ``in`` and ``out`` over a window ending at ``at``;
- ``count``: a camera's or a drone's count of the people in its field of view, and the fraction
  of the area that view covers;
- ``density``: persons per m² estimated over the field of view;
- ``status``: the sensor going online or offline (MQTT last will included).

``in`` means into the sensor's area. Timestamps must carry a time zone (any zone).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import Meta, Struct, field
from pydantic import BaseModel, Field

from lakeguard.errors import Invalid
from lakeguard.venue.schema import SensorKind

EventId = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
SensorId = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
# Any zone is accepted and kept as sent; what is stored and computed is the instant.
AwareTime = Annotated[datetime, Meta(tz=True)]

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


# msgspec structs rather than pydantic models: tens of thousands arrive a second, and a struct
# is decoded straight from JSON in C. They hold no references to other objects, so the garbage
# collector need not track them (gc=False).
class _Observation(Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind", gc=False):
    kind: ClassVar[ObservationKind]
    event_id: EventId
    sensor_id: SensorId
    at: AwareTime


class Crossing(_Observation, frozen=True, tag="crossing", gc=False):
    kind: ClassVar[ObservationKind] = ObservationKind.CROSSING
    window_s: Annotated[float, Meta(gt=0, le=3600)]
    entered: Annotated[int, Meta(ge=0, le=1_000_000)] = field(name="in")
    exited: Annotated[int, Meta(ge=0, le=1_000_000)] = field(name="out")


class AreaCount(_Observation, frozen=True, tag="count", gc=False):
    kind: ClassVar[ObservationKind] = ObservationKind.COUNT
    count: Annotated[int, Meta(ge=0, le=10_000_000)]
    coverage: Annotated[float, Meta(gt=0, le=1)] = 1.0


class DensityEstimate(_Observation, frozen=True, tag="density", gc=False):
    kind: ClassVar[ObservationKind] = ObservationKind.DENSITY
    persons_per_m2: Annotated[float, Meta(ge=0, le=15)]
    coverage: Annotated[float, Meta(gt=0, le=1)] = 1.0


class SensorStatus(_Observation, frozen=True, tag="status", gc=False):
    kind: ClassVar[ObservationKind] = ObservationKind.STATUS
    online: bool


Observation = Crossing | AreaCount | DensityEstimate | SensorStatus


class NotABatch(Invalid):
    """A body that is not a JSON array (or not JSON at all): nothing in it can be taken."""

    title = "Not a batch"


_BATCH = msgspec.json.Decoder(list[Observation])
_RAW_BATCH = msgspec.json.Decoder(list[msgspec.Raw])
_ONE = msgspec.json.Decoder(Observation)
_NAMED_FIELD = re.compile(
    r"^Object (missing required|contains unknown) field `([^`]*)`(?: - at `\$(.*)`)?$"
)
_AT_PATH = re.compile(r"^(.*) - at `\$\.?(.*)`$")


def reason_of(error: msgspec.ValidationError) -> str:
    """A refusal's reason, starting with the field it concerns: ``in: Expected `int` >= 0``."""
    text = str(error)
    named = _NAMED_FIELD.match(text)
    if named:
        what, name, path = named.groups()
        where = ".".join(p for p in ((path or "").lstrip("."), name) if p)
        return f"{where}: {'Field required' if what.startswith('missing') else 'unknown field'}"
    at = _AT_PATH.match(text)
    if at:
        message, path = at.groups()
        return f"{path}: {message}" if path else message
    return text


def parse_observation(item: Any) -> Observation:
    """One observation from a decoded JSON value; raises msgspec.ValidationError."""
    found: Observation = msgspec.convert(item, Observation)
    return found


def parse_observations(items: Any) -> list[Observation]:
    """A batch of observations from decoded JSON values; raises msgspec.ValidationError."""
    return msgspec.convert(items, list[Observation])


def decode_batch(body: bytes) -> list[Observation] | None:
    """A JSON body as observations; None if some item is bad (then ``split_batch`` it).

    Raises NotABatch if the body is not JSON.
    """
    try:
        return _BATCH.decode(body)
    except msgspec.ValidationError:
        return None
    except msgspec.DecodeError as exc:
        raise NotABatch(f"body: not JSON ({exc})") from None


def split_batch(body: bytes) -> list[msgspec.Raw]:
    """A JSON array's items, each left as JSON text; raises NotABatch if it is no array."""
    try:
        return _RAW_BATCH.decode(body)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise NotABatch(f"body: not a JSON array of observations ({exc})") from None


def decode_observation(raw: msgspec.Raw) -> Observation:
    """One raw item of a batch; raises msgspec.ValidationError."""
    return _ONE.decode(raw)


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
