"""Reading positions sent with the OsmAnd / Traccar Client protocol (pure).

Two forms reach ``/api/v1/positions/osmand``:

- query or form parameters (OsmAnd, Traccar Client up to 8): ``id`` or ``deviceid``, ``lat``
  and ``lon`` or ``location=lat,lon``, ``timestamp`` (Unix seconds, milliseconds or ISO 8601),
  ``speed``, ``bearing`` (or ``heading``), ``altitude``, ``accuracy``, ``batt`` (percent);
  any other key is kept as an extra attribute;
- the JSON body of Traccar Client 9 (``device_id`` and a ``location`` with ``coords``).

Trackers send -1 for a speed or heading they do not know; that reads as unknown, not as an
error. A report without a timestamp is taken as sent when it was received, as Traccar does.
Errors name the field: 400 when a value is missing or cannot be read, 422 when it reads but
is impossible (a latitude of 95).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from lakeguard.errors import Invalid
from lakeguard.forces.engine import PositionReport

SpeedUnit = Literal["mps", "kn", "kmh", "mph"]
SPEED_TO_MS: Mapping[str, float] = {"mps": 1.0, "kn": 1852 / 3600, "kmh": 1 / 3.6, "mph": 0.44704}

# Keys the query form gives a meaning to; every other key is an extra attribute. The token
# is a credential and is never stored.
_KNOWN_KEYS = frozenset(
    {"id", "deviceid", "lat", "lon", "location", "timestamp", "speed", "bearing", "heading",
     "altitude", "accuracy", "batt", "token"}
)  # fmt: skip
# Above this a Unix time is in milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973.
_MILLISECONDS_FROM = 1e11
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class ReportError(Invalid):
    """A report that cannot be accepted; ``field`` names the culprit.

    An unreadable report answers 400, a readable value out of range 422.
    """

    title = "Invalid position"

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.field, self.message, self.status = field, message, status


@dataclass(frozen=True)
class DeviceReport:
    """A position and the tracker id it came from."""

    device_id: str
    position: PositionReport
    protocol: Literal["osmand", "traccar_json"]


def parse_timestamp(value: Any, field: str = "timestamp") -> datetime:
    """A UTC time from Unix seconds, Unix milliseconds or ISO 8601 (naive ISO is UTC)."""
    if isinstance(value, bool):
        raise ReportError(field, f"{value!r} is not a time")
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        value = float(value)
    if isinstance(value, int | float):
        seconds = float(value) / 1000 if abs(value) >= _MILLISECONDS_FROM else float(value)
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise ReportError(field, f"{value!r} is out of range for a Unix time") from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ReportError(
                field, f"cannot read {value!r} as Unix seconds, milliseconds or ISO 8601"
            ) from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ReportError(field, f"expected a time, got {type(value).__name__}")


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ReportError(field, f"expected a number, got {value!r}")
    if isinstance(value, str) and not _NUMBER.match(value.strip()):
        raise ReportError(field, f"{value!r} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ReportError(field, f"{value!r} is not a finite number")
    return number


def _within(value: float, field: str, low: float, high: float) -> float:
    if not low <= value <= high:
        raise ReportError(field, f"{value:g} is out of range ({low:g} to {high:g})", 422)
    return value


def _optional(
    raw: Any, field: str, low: float, high: float, *, negative_unknown: bool = False
) -> float | None:
    if raw is None or raw == "":
        return None
    value = _number(raw, field)
    if negative_unknown and value < 0:
        return None
    return _within(value, field, low, high)


def _position(
    fields: Mapping[str, str],
    lat: float,
    lon: float,
    reported_at: datetime,
    raw: Mapping[str, Any],
    attributes: Mapping[str, Any],
) -> PositionReport:
    """Validate the common numeric fields (already named by ``fields``) into a report."""
    bearing = _optional(raw.get("bearing"), fields["bearing"], 0, 360, negative_unknown=True)
    return PositionReport(
        lat=_within(lat, fields["lat"], -90, 90),
        lon=_within(lon, fields["lon"], -180, 180),
        reported_at=reported_at,
        accuracy_m=_optional(raw.get("accuracy"), fields["accuracy"], 0, 1e6),
        speed_ms=_optional(raw.get("speed"), fields["speed"], 0, 1e3, negative_unknown=True),
        bearing_deg=None if bearing is None else bearing % 360,
        altitude_m=_optional(raw.get("altitude"), fields["altitude"], -1e4, 1e5),
        battery=_optional(raw.get("battery"), fields["battery"], 0, 100),
        attributes=dict(attributes),
    )


def parse_osmand(
    params: Iterable[tuple[str, str]], *, now: datetime, speed_unit: SpeedUnit = "mps"
) -> DeviceReport:
    """A report from OsmAnd query or form parameters (the first value of a repeated key)."""
    values: dict[str, str] = {}
    for key, value in params:
        values.setdefault(key, value)
    device_id = (values.get("id") or values.get("deviceid") or "").strip()
    if not device_id:
        raise ReportError("id", "missing: send the tracker's id (id or deviceid)")
    if "location" in values:
        parts = values["location"].split(",")
        if len(parts) != 2:
            raise ReportError("location", f"expected 'lat,lon', got {values['location']!r}")
        lat, lon = _number(parts[0], "location"), _number(parts[1], "location")
        lat_field = lon_field = "location"
    else:
        for key in ("lat", "lon"):
            if not values.get(key):
                raise ReportError(key, "missing: send lat and lon, or location=lat,lon")
        lat, lon = _number(values["lat"], "lat"), _number(values["lon"], "lon")
        lat_field, lon_field = "lat", "lon"
    timestamp = values.get("timestamp")
    reported_at = parse_timestamp(timestamp) if timestamp else now
    speed = values.get("speed")
    raw = {
        "speed": None if not speed else _number(speed, "speed") * SPEED_TO_MS[speed_unit],
        "bearing": values.get("bearing") or values.get("heading"),
        "altitude": values.get("altitude"),
        "accuracy": values.get("accuracy"),
        "battery": values.get("batt"),
    }
    fields = {
        "lat": lat_field, "lon": lon_field, "speed": "speed", "altitude": "altitude",
        "bearing": "bearing" if values.get("bearing") else "heading",
        "accuracy": "accuracy", "battery": "batt",
    }  # fmt: skip
    extra = {k: v for k, v in values.items() if k not in _KNOWN_KEYS}
    position = _position(fields, lat, lon, reported_at, raw, extra)
    return DeviceReport(device_id, position, "osmand")


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ReportError(field, f"expected an object, got {type(value).__name__}")
    return value


def parse_traccar_json(body: Any, *, now: datetime) -> DeviceReport:
    """A report from the JSON body Traccar Client 9 sends (speed in m/s, battery 0–1)."""
    body = _object(body, "body")
    device_id = body.get("device_id")
    if isinstance(device_id, bool) or not isinstance(device_id, str | int) or device_id == "":
        raise ReportError("device_id", "missing: send the tracker's id as device_id")
    location = body.get("location")
    if isinstance(location, list):
        if len(location) != 1:
            raise ReportError("location", f"one position per request, got {len(location)}")
        location = location[0]
    location = _object(location, "location")
    coords = _object(location.get("coords"), "location.coords")
    for key in ("latitude", "longitude"):
        if coords.get(key) is None:
            raise ReportError(f"location.coords.{key}", "missing")
    lat = _number(coords["latitude"], "location.coords.latitude")
    lon = _number(coords["longitude"], "location.coords.longitude")
    timestamp = location.get("timestamp")
    reported_at = now if timestamp is None else parse_timestamp(timestamp, "location.timestamp")
    battery = _object(location.get("battery") or {}, "location.battery")
    level = battery.get("level")
    if level is not None:
        level = _number(level, "location.battery.level")
        level = None if level < 0 else _within(level, "location.battery.level", 0, 1) * 100
    raw = {
        "speed": coords.get("speed"),
        "bearing": coords.get("heading"),
        "altitude": coords.get("altitude"),
        "accuracy": coords.get("accuracy"),
        "battery": level,
    }
    fields = {
        "lat": "location.coords.latitude", "lon": "location.coords.longitude",
        "speed": "location.coords.speed", "bearing": "location.coords.heading",
        "altitude": "location.coords.altitude", "accuracy": "location.coords.accuracy",
        "battery": "location.battery.level",
    }  # fmt: skip
    position = _position(fields, lat, lon, reported_at, raw, _json_attributes(body, location))
    return DeviceReport(str(device_id), position, "traccar_json")


def _json_attributes(body: Mapping[str, Any], location: Mapping[str, Any]) -> dict[str, Any]:
    """Everything in the JSON body besides the position itself, flattened a little."""
    attributes: dict[str, Any] = {}
    for key, value in location.items():
        if key in ("timestamp", "coords", "battery"):
            continue
        if key == "activity" and isinstance(value, Mapping) and "type" in value:
            attributes["activity"] = value["type"]
        else:
            attributes[key] = value
    battery = location.get("battery")
    if isinstance(battery, Mapping) and "is_charging" in battery:
        attributes["is_charging"] = battery["is_charging"]
    for key, value in body.items():
        if key not in ("device_id", "location", "token"):
            attributes[key] = value
    return attributes
