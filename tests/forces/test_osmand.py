"""Reading OsmAnd query/form parameters and Traccar Client JSON bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest

from lakeguard.forces.osmand import (
    ReportError,
    parse_osmand,
    parse_timestamp,
    parse_traccar_json,
)

NOW = datetime(2024, 5, 1, 2, 45, tzinfo=UTC)
SENT = datetime(2024, 5, 1, 2, 40, tzinfo=UTC)  # 1714531200


def query(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1714531200, SENT),
        ("1714531200", SENT),
        (1714531200000, SENT),
        ("1714531200000", SENT),
        ("1714531200.5", datetime(2024, 5, 1, 2, 40, 0, 500000, tzinfo=UTC)),
        ("2024-05-01T02:40:00Z", SENT),
        ("2024-05-01T02:40:00.000Z", SENT),
        ("2024-05-01T10:40:00+08:00", SENT),
        ("2024-05-01 02:40:00", SENT),  # Traccar's "yyyy-MM-dd HH:mm:ss", UTC
    ],
)
def test_timestamps(value: Any, expected: datetime) -> None:
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01T00:00:00Z", "", True, [1], "1e400"])
def test_unreadable_timestamps_name_the_field(value: Any) -> None:
    with pytest.raises(ReportError) as caught:
        parse_timestamp(value)
    assert caught.value.field == "timestamp" and caught.value.status == 400


def test_the_reference_query() -> None:
    report = parse_osmand(
        query("id=DEVICE&lat=30.2597&lon=120.1517&timestamp=1714531200&speed=1.2&bearing=90"
              "&altitude=8&accuracy=5&batt=87&hdop=0.9&charge=true&token=secret"),
        now=NOW,
    )  # fmt: skip
    assert report.device_id == "DEVICE" and report.protocol == "osmand"
    p = report.position
    assert (p.lat, p.lon, p.reported_at) == (30.2597, 120.1517, SENT)
    assert (p.speed_ms, p.bearing_deg, p.altitude_m, p.accuracy_m, p.battery) == (1.2, 90, 8, 5, 87)
    # Unknown keys are kept; the credential is not.
    assert p.attributes == {"hdop": "0.9", "charge": "true"}


def test_deviceid_location_and_heading_spellings() -> None:
    report = parse_osmand(
        query("deviceid=42&location=30.2597,120.1517&timestamp=2024-05-01T02:40:00Z&heading=270"),
        now=NOW,
    )
    assert report.device_id == "42"
    assert (report.position.lat, report.position.lon) == (30.2597, 120.1517)
    assert report.position.bearing_deg == 270


def test_optional_fields_and_missing_timestamp() -> None:
    report = parse_osmand(query("id=7&lat=30.25&lon=120.15"), now=NOW)
    p = report.position
    assert p.reported_at == NOW  # no timestamp: taken as sent when received
    assert (p.speed_ms, p.bearing_deg, p.accuracy_m, p.altitude_m, p.battery) == (None,) * 5


def test_speed_units() -> None:
    params = query("id=7&lat=30.25&lon=120.15&speed=10")
    assert parse_osmand(params, now=NOW).position.speed_ms == 10
    assert parse_osmand(params, now=NOW, speed_unit="kn").position.speed_ms == pytest.approx(
        5.1444, abs=1e-4
    )
    assert parse_osmand(params, now=NOW, speed_unit="kmh").position.speed_ms == pytest.approx(
        2.7778, abs=1e-4
    )


def test_minus_one_means_unknown() -> None:
    p = parse_osmand(query("id=7&lat=30.25&lon=120.15&speed=-1&bearing=-1"), now=NOW).position
    assert (p.speed_ms, p.bearing_deg) == (None, None)


@pytest.mark.parametrize(
    ("text", "field", "status", "message"),
    [
        ("lat=30.25&lon=120.15", "id", 400, "missing"),
        ("id=&lat=30.25&lon=120.15", "id", 400, "missing"),
        ("id=7&lon=120.15", "lat", 400, "missing"),
        ("id=7&lat=30.25", "lon", 400, "missing"),
        ("id=7&lat=north&lon=120.15", "lat", 400, "'north' is not a number"),
        ("id=7&lat=nan&lon=120.15", "lat", 400, "not a number"),
        ("id=7&lat=95&lon=120.15", "lat", 422, "95 is out of range (-90 to 90)"),
        ("id=7&lat=30&lon=181", "lon", 422, "out of range"),
        ("id=7&location=30.25", "location", 400, "expected 'lat,lon'"),
        ("id=7&location=95,120", "location", 422, "out of range"),
        ("id=7&lat=30.25&lon=120.15&timestamp=soon", "timestamp", 400, "cannot read 'soon'"),
        ("id=7&lat=30.25&lon=120.15&speed=fast", "speed", 400, "not a number"),
        ("id=7&lat=30.25&lon=120.15&bearing=400", "bearing", 422, "out of range"),
        ("id=7&lat=30.25&lon=120.15&accuracy=-3", "accuracy", 422, "out of range"),
        ("id=7&lat=30.25&lon=120.15&batt=150", "batt", 422, "out of range"),
    ],
)
def test_bad_queries_name_the_field(text: str, field: str, status: int, message: str) -> None:
    with pytest.raises(ReportError) as caught:
        parse_osmand(query(text), now=NOW)
    assert (caught.value.field, caught.value.status) == (field, status)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")


TRACCAR = {
    "location": {
        "timestamp": "2024-05-01T02:40:00.000Z",
        "coords": {"latitude": 30.2597, "longitude": 120.1517, "accuracy": 4.5, "speed": 1.4,
                   "heading": 85.5, "altitude": 9},
        "is_moving": True,
        "odometer": 1234.5,
        "event": "motionchange",
        "battery": {"level": 0.87, "is_charging": False},
        "activity": {"type": "walking"},
        "extras": {},
    },
    "device_id": "48241179",
}  # fmt: skip


def test_traccar_client_json() -> None:
    report = parse_traccar_json(TRACCAR, now=NOW)
    assert report.device_id == "48241179" and report.protocol == "traccar_json"
    p = report.position
    assert (p.lat, p.lon, p.reported_at) == (30.2597, 120.1517, SENT)
    assert (p.accuracy_m, p.speed_ms, p.bearing_deg, p.altitude_m) == (4.5, 1.4, 85.5, 9)
    assert p.battery == pytest.approx(87)
    assert p.attributes == {
        "is_moving": True, "odometer": 1234.5, "event": "motionchange",
        "activity": "walking", "extras": {}, "is_charging": False,
    }  # fmt: skip


def test_traccar_json_minimal_and_unknowns() -> None:
    body = {"device_id": 5, "location": [{"coords": {"latitude": 30, "longitude": 120,
                                                     "speed": -1, "heading": -1}}]}  # fmt: skip
    body["location"][0]["battery"] = {"level": -1}  # type: ignore[index]
    report = parse_traccar_json(body, now=NOW)
    p = report.position
    assert report.device_id == "5" and p.reported_at == NOW
    assert (p.speed_ms, p.bearing_deg, p.battery) == (None, None, None)


def _with(path: str, value: Any) -> dict[str, Any]:
    import copy

    body = copy.deepcopy(TRACCAR)
    *parents, last = path.split(".")
    target: Any = body
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return body


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ([TRACCAR], "body", 400),
        (_with("device_id", ...), "device_id", 400),
        (_with("device_id", True), "device_id", 400),
        (_with("location", "here"), "location", 400),
        (_with("location", [TRACCAR["location"]] * 2), "location", 400),
        (_with("location.coords", ...), "location.coords", 400),
        (_with("location.coords.latitude", ...), "location.coords.latitude", 400),
        (_with("location.coords.latitude", "x"), "location.coords.latitude", 400),
        (_with("location.coords.latitude", -91), "location.coords.latitude", 422),
        (_with("location.coords.longitude", 200), "location.coords.longitude", 422),
        (_with("location.timestamp", "teatime"), "location.timestamp", 400),
        (_with("location.coords.accuracy", -5), "location.coords.accuracy", 422),
        (_with("location.battery", {"level": 87}), "location.battery.level", 422),
    ],
)
def test_bad_traccar_json_names_the_field(body: Any, field: str, status: int) -> None:
    with pytest.raises(ReportError) as caught:
        parse_traccar_json(body, now=NOW)
    assert (caught.value.field, caught.value.status) == (field, status)
