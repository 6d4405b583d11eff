"""Builders for test data: a small park whose travel times can be worked out by hand.

The park is laid out in metres on a plane centred at 120.0 E, 30.0 N and written as WGS84
GeoJSON, exactly as a scenario folder is on disk.

    D(0,200) ───────── C(200,200) ~~~boat~~~ F(400,200) ── G(450,200)
      │             ╱     │                     ╲           │
      │      E(100,100)   │ road                 ╲          │
      │       ╱           │                       H(450,250)┘  (island loop, walk only)
    A(0,0) ─────road──── B(200,0)

Walk: the square A-B-C-D-A (800 m) and the diagonal A-E-C (282.8 m). AB and BC are also
road (vehicle). A boat lane runs from the pier at C to the island pier at F (200 m). The
"avenue" hotspot is a 10 m wide strip along the diagonal, so a crowd there slows only it.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from lakeguard.venue.geometry import LocalProjection

ORIGIN = (120.0, 30.0)
_PROJ = LocalProjection(*ORIGIN)

A, B, C, D, E = (0, 0), (200, 0), (200, 200), (0, 200), (100, 100)
F, G, H = (400, 200), (450, 200), (450, 250)
DIAGONAL_M = math.hypot(200, 200)
SQUARE_HALF_M = 400.0


def lonlat(xy: tuple[float, float]) -> list[float]:
    """WGS84 [lon, lat] of a point given in metres from the origin."""
    lon, lat = _PROJ.to_lonlat(xy[0], xy[1])
    return [round(float(lon), 9), round(float(lat), 9)]


def _line(*points: tuple[float, float]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [lonlat(p) for p in points]}


def _polygon(*points: tuple[float, float]) -> dict[str, Any]:
    ring = [lonlat(p) for p in points]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _name(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh": zh}


def _avenue_strip() -> dict[str, Any]:
    """A 10 m wide strip along A-C, 2 m past each end."""
    u = (1 / math.sqrt(2), 1 / math.sqrt(2))
    n = (-u[1], u[0])
    start = (A[0] - 2 * u[0], A[1] - 2 * u[1])
    end = (C[0] + 2 * u[0], C[1] + 2 * u[1])
    return _polygon(
        (start[0] + 5 * n[0], start[1] + 5 * n[1]),
        (start[0] - 5 * n[0], start[1] - 5 * n[1]),
        (end[0] - 5 * n[0], end[1] - 5 * n[1]),
        (end[0] + 5 * n[0], end[1] + 5 * n[1]),
    )


AVENUE_LENGTH_M = DIAGONAL_M + 4
AVENUE_M2 = AVENUE_LENGTH_M * 10


def tiny_scenario() -> dict[str, Any]:
    """The park's files: ``venue.toml`` as text, the layers as GeoJSON objects."""
    venue = (
        'id = "tinypark"\n'
        'name = { zh = "小公园", en = "Tiny Park" }\n'
        'timezone = "Asia/Shanghai"\n'
        'description = "A park small enough to check by hand."\n'
        "[speeds]\nwalk = 1.34\nvehicle = 8.3\nboat = 5.0\ndrone = 12.0\ndrone_launch_s = 60\n"
        "[network]\ndensify_m = 25\nnode_tolerance_m = 1.0\nmax_snap_m = 60\n"
    )
    stations = [
        _feature(_polygon((-60, -60), (150, -60), (150, 320), (-60, 320)),
                 id="west", name=_name("West Station", "西派出所"), location=lonlat((-20, -20))),
        _feature(_polygon((150, -60), (520, -60), (520, 320), (150, 320)),
                 id="east", name=_name("East Station", "东派出所"), location=lonlat((220, -20))),
    ]  # fmt: skip
    avenue_usable = 2800.0
    areas = [
        _feature(_avenue_strip(), id="avenue", name=_name("Avenue", "林荫道"),
                 aliases=["the diagonal", "林荫大道"], domain="land", kind="hotspot",
                 station="west", usable_m2=avenue_usable, space_per_visitor_m2=5.0,
                 capacity=math.floor(avenue_usable / 5.0)),
        _feature(_polygon((210, 150), (390, 150), (390, 300), (210, 300)),
                 id="lake", name=_name("Lake", "湖"), domain="water", kind="water",
                 station="east", usable_m2=27000.0),
        _feature(_polygon((395, 190), (470, 190), (470, 270), (395, 270)),
                 id="isle", name=_name("Isle", "小岛"), domain="land", kind="island",
                 station="east", usable_m2=5000.0, space_per_visitor_m2=5.0, capacity=1000),
    ]  # fmt: skip
    posts = [
        _feature({"type": "Point", "coordinates": lonlat(A)}, id="pt-a", kind="point",
                 name=_name("Corner A", "甲角"), station="west", domain="land",
                 staffing={"hours": "24h", "min_units": 1}),
        _feature(_line(C, D), id="seg-north", kind="segment", name=_name("North path", "北路"),
                 station="west", domain="land", staffing={"hours": "08:00-22:00", "min_units": 1}),
        _feature(_line(C, F), id="seg-lake", kind="segment", name=_name("Lake lane", "湖航线"),
                 station="east", domain="water", staffing={"hours": "08:00-18:00", "min_units": 1}),
        _feature(_line((0, 300), (500, 300)), id="seg-sky", kind="segment",
                 name=_name("Sky line", "空巡线"), station="east", domain="air",
                 staffing={"hours": "09:00-17:00", "min_units": 1}),
    ]  # fmt: skip
    sensors = [
        _feature(_line((100, -10), (100, 10)), id="gate-ab", kind="gate",
                 name=_name("Gate AB", "甲乙闸"), area="avenue", beyond="outside"),
        _feature(_polygon((90, 90), (110, 90), (110, 110), (90, 110)), id="cam-e", kind="camera",
                 name=_name("Camera E", "戊摄像头"), area="avenue", mount=lonlat((95, 95))),
        _feature({"type": "Point", "coordinates": lonlat(A)}, id="drone-a", kind="drone_station",
                 name=_name("Drone A", "甲无人机"), area="avenue"),
        _feature({"type": "Point", "coordinates": lonlat(B)}, id="check-b", kind="checkpoint",
                 name=_name("Checkpoint B", "乙卡口"), area="avenue", beyond="outside"),
    ]  # fmt: skip
    network = [
        _feature(_line(A, B), id="ab", modes=["walk", "vehicle"]),
        _feature(_line(B, C), id="bc", modes=["walk", "vehicle"]),
        _feature(_line(C, D), id="cd", modes=["walk"]),
        _feature(_line(D, A), id="da", modes=["walk"]),
        _feature(_line(A, E, C), id="ace", modes=["walk"], width_m=4.0),
        _feature(_line(C, F), id="boat-cf", modes=["boat"]),
        _feature(_line(F, G, H, F), id="isle-loop", modes=["walk"]),
    ]
    return {
        "venue.toml": venue,
        "stations.geojson": _collection(stations),
        "areas.geojson": _collection(areas),
        "posts.geojson": _collection(posts),
        "sensors.geojson": _collection(sensors),
        "network.geojson": _collection(network),
    }


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def write_scenario(folder: Path, files: dict[str, Any] | None = None) -> Path:
    """Write scenario files (default: the tiny park) to a folder and return it."""
    files = copy.deepcopy(files) if files is not None else tiny_scenario()
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def feature(files: dict[str, Any], layer: str, feature_id: str) -> dict[str, Any]:
    """The feature with an id in one layer of scenario files, for editing in a test."""
    for item in files[layer]["features"]:
        if item["properties"].get("id") == feature_id:
            return item  # type: ignore[no-any-return]
    raise KeyError(feature_id)
