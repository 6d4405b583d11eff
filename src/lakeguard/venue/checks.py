"""Checks that span features and files: references, capacities, the network, reachability."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence

import numpy as np
import shapely

from lakeguard.venue.geometry import LocalProjection
from lakeguard.venue.network import LineInput, TravelNetwork
from lakeguard.venue.problems import Problem
from lakeguard.venue.schema import (
    DOMAIN_MODE,
    OUTSIDE,
    SENSOR_GEOMETRY,
    Area,
    AreaKind,
    Feature,
    Mode,
    NetworkLine,
    Post,
    Sensor,
    VenueConfig,
)

Parsed = Mapping[str, Sequence[tuple[int, Feature]]]
# Areas drawn by hand are not exact: usable area may exceed the drawn polygon by this share.
AREA_SLACK = 1.01
# Neighbouring areas drawn by hand may touch with slivers of overlap; more than this is an error.
OVERLAP_SLACK = 0.005


def cross_check(parsed: Parsed, config: VenueConfig | None) -> list[Problem]:
    """Duplicate ids, references between layers, geometry kinds and capacities."""
    problems = _duplicate_ids(parsed)
    stations = {f.id for _, f in parsed["stations.geojson"]}
    areas = {f.id for _, f in parsed["areas.geojson"]}
    projection = _projection(parsed)
    for index, area in parsed["areas.geojson"]:
        assert isinstance(area, Area)
        problems += _reference("areas.geojson", index, area.id, "station", area.station, stations)
        problems += _capacity_problems(index, area, projection)
    for index, post in parsed["posts.geojson"]:
        assert isinstance(post, Post)
        problems += _reference("posts.geojson", index, post.id, "station", post.station, stations)
        expected = "Point" if post.kind == "point" else "LineString"
        if post.geometry.get("type") != expected:
            problems.append(
                Problem("posts.geojson", index, post.id, "kind",
                        f"a {post.kind} post needs a {expected} geometry, "
                        f"not {post.geometry.get('type')}")
            )  # fmt: skip
    for index, sensor in parsed["sensors.geojson"]:
        assert isinstance(sensor, Sensor)
        problems += _reference("sensors.geojson", index, sensor.id, "area", sensor.area, areas)
        problems += _sensor_shape_problems(index, sensor)
        problems += _line_side_problems(index, sensor, areas)
    if OUTSIDE in areas:
        index = next(i for i, f in parsed["areas.geojson"] if f.id == OUTSIDE)
        problems.append(
            Problem("areas.geojson", index, OUTSIDE, "id",
                    f"{OUTSIDE!r} is reserved for the far side of lines on the venue's edge")
        )  # fmt: skip
    problems += _jurisdiction_problems(parsed)
    if projection is not None:
        problems += _overlap_problems(parsed, projection)
    return problems


def _jurisdiction_problems(parsed: Parsed) -> list[Problem]:
    """Areas and posts lie in the jurisdiction of the station they name."""
    stations = {f.id: f.shape for _, f in parsed["stations.geojson"]}
    problems = []
    for name in ("areas.geojson", "posts.geojson"):
        for index, feature in parsed[name]:
            station = getattr(feature, "station", None)
            if station not in stations:
                continue  # reported as an unknown station
            shape = feature.shape
            spot = (
                shape.interpolate(0.5, normalized=True)
                if shape.geom_type == "LineString"
                else shape.representative_point()
            )
            if stations[station].covers(spot):
                continue
            inside = [sid for sid, polygon in stations.items() if polygon.covers(spot)]
            where = (
                f"it lies in {inside[0]!r}" if inside else "it lies in no station's jurisdiction"
            )
            problems.append(
                Problem(name, index, feature.id, "station",
                        f"outside the jurisdiction of station {station!r} ({where})")
            )  # fmt: skip
    return problems


def _overlap_problems(parsed: Parsed, projection: LocalProjection) -> list[Problem]:
    """Areas do not overlap: each place belongs to one area, for crowds and walking speeds."""
    entries = list(parsed["areas.geojson"])
    shapes = [projection.geometry_to_xy(f.shape) for _, f in entries]
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    problems = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        shared = shapes[i].intersection(shapes[j]).area
        if shared > max(1.0, OVERLAP_SLACK * min(shapes[i].area, shapes[j].area)):
            index, later = entries[j]
            problems.append(
                Problem("areas.geojson", index, later.id, "geometry",
                        f"overlaps area {entries[i][1].id!r} by {shared:,.0f} m² "
                        "(areas may not overlap: each place belongs to one area)")
            )  # fmt: skip
    return problems


def _duplicate_ids(parsed: Parsed) -> list[Problem]:
    first_seen: dict[str, str] = {}
    problems = []
    for name, features in parsed.items():
        for index, feature in features:
            if feature.id in first_seen:
                problems.append(
                    Problem(name, index, feature.id, "id",
                            f"duplicate id (already used in {first_seen[feature.id]})")
                )  # fmt: skip
            else:
                first_seen[feature.id] = name
    return problems


def _reference(
    file: str, index: int, fid: str, field: str, value: str, known: set[str]
) -> list[Problem]:
    if value in known:
        return []
    close = difflib.get_close_matches(value, sorted(known), n=3)
    known_list = ", ".join(sorted(known)[:8])
    hint = f"did you mean {', '.join(close)}?" if close else f"known: {known_list}"
    kind = "station" if field == "station" else "area"
    return [Problem(file, index, fid, field, f"unknown {kind} {value!r} ({hint})")]


def _projection(parsed: Parsed) -> LocalProjection | None:
    points = [f.shape.centroid for _, features in parsed.items() for _, f in features[:50]]
    if not points:
        return None
    return LocalProjection(
        float(np.mean([p.x for p in points])), float(np.mean([p.y for p in points]))
    )


def _capacity_problems(index: int, area: Area, projection: LocalProjection | None) -> list[Problem]:
    def problem(field: str, message: str) -> Problem:
        return Problem("areas.geojson", index, area.id, field, message)

    problems = []
    if area.kind == AreaKind.HOTSPOT and area.capacity is None:
        problems.append(problem("capacity", "missing (required for a hotspot)"))
    if area.capacity is not None:
        if area.space_per_visitor_m2 is None:
            problems.append(
                problem("space_per_visitor_m2", "missing (required where capacity is set)")
            )
        else:
            expected = math.floor(area.usable_m2 / area.space_per_visitor_m2)
            if area.capacity != expected:
                problems.append(
                    problem("capacity",
                            f"{area.capacity} does not match usable_m2 / space_per_visitor_m2 "
                            f"= {area.usable_m2:g} / {area.space_per_visitor_m2:g} → {expected}")
                )  # fmt: skip
    if projection is not None:
        drawn = projection.geometry_to_xy(area.shape).area
        if area.usable_m2 > drawn * AREA_SLACK:
            problems.append(
                problem("usable_m2",
                        f"{area.usable_m2:,.0f} m² is more than the polygon's own {drawn:,.0f} m²")
            )  # fmt: skip
    return problems


def _sensor_shape_problems(index: int, sensor: Sensor) -> list[Problem]:
    expected = SENSOR_GEOMETRY[sensor.kind]
    problems = []
    if sensor.geometry.get("type") != expected:
        problems.append(
            Problem("sensors.geojson", index, sensor.id, "geometry",
                    f"a {sensor.kind.value} needs a {expected}, not {sensor.geometry.get('type')}")
        )  # fmt: skip
    if sensor.kind.value == "camera" and sensor.mount is None:
        problems.append(
            Problem("sensors.geojson", index, sensor.id, "mount", "missing (required for a camera)")
        )
    return problems


def _line_side_problems(index: int, sensor: Sensor, areas: set[str]) -> list[Problem]:
    """A counting line names the area on its other side; other sensors have no other side."""

    def problem(message: str) -> list[Problem]:
        return [Problem("sensors.geojson", index, sensor.id, "beyond", message)]

    if not sensor.counts_line:
        if sensor.beyond is not None:
            return problem(f"only gates and checkpoints have a far side, not a {sensor.kind.value}")
        return []
    if sensor.beyond is None:
        return problem(f"missing (required for a {sensor.kind.value}: an area id or {OUTSIDE!r})")
    if sensor.beyond in (OUTSIDE, sensor.area):
        return []
    return _reference("sensors.geojson", index, sensor.id, "beyond", sensor.beyond, areas)


def build_network(
    lines: Sequence[NetworkLine], config: VenueConfig, areas: Sequence[Area] = ()
) -> TravelNetwork:
    """The travel-time engine for a scenario's network lines."""
    return TravelNetwork.from_lines(
        [LineInput(line.id, line.modes, line.shape.coords) for line in lines],
        speeds=config.speeds,
        densify_m=config.network.densify_m,
        node_tolerance_m=config.network.node_tolerance_m,
        areas={area.id: area.shape for area in areas},
    )


def network_check(parsed: Parsed, config: VenueConfig) -> list[Problem]:
    """Each mode's network is connected (islands with a pier aside); posts can be reached."""
    entries = list(parsed["network.geojson"])
    if not entries:
        return [Problem("network.geojson", field="features", message="the network has no lines")]
    lines = [f for _, f in entries if isinstance(f, NetworkLine)]
    network = build_network(lines, config)
    problems = _connectivity_problems(network, entries)
    problems += _reachability_problems(network, parsed, config)
    return problems


def _connectivity_problems(
    network: TravelNetwork, entries: Sequence[tuple[int, Feature]]
) -> list[Problem]:
    problems = []
    boat_nodes = network.mode_nodes(Mode.BOAT)
    for mode in (Mode.WALK, Mode.VEHICLE, Mode.BOAT):
        pieces = network.pieces(mode)
        for piece in pieces[1:]:
            if mode == Mode.WALK and boat_nodes[piece.nodes].any():
                continue  # an island reached by boat through its pier
            index, first = entries[piece.lines[0]]
            others = len(piece.lines) - 1
            rest = f" and {others} more line{'s' if others != 1 else ''}" if others else ""
            why = "" if mode != Mode.WALK else " and has no pier on the boat network"
            problems.append(
                Problem("network.geojson", index, first.id, "modes",
                        f"{mode.value} network not connected: this line{rest} form a piece "
                        f"apart from the main {mode.value} network{why}")
            )  # fmt: skip
    return problems


def _reachability_problems(
    network: TravelNetwork, parsed: Parsed, config: VenueConfig
) -> list[Problem]:
    problems = []
    limit = config.network.max_snap_m
    for index, post in parsed["posts.geojson"]:
        assert isinstance(post, Post)
        mode = DOMAIN_MODE[post.domain]
        if mode is None:
            continue
        if not network.has_mode(mode):
            problems.append(
                Problem("posts.geojson", index, post.id, "domain",
                        f"a {post.domain.value} post needs a {mode.value} network, "
                        "and the scenario has none")
            )  # fmt: skip
            continue
        coords = np.array(post.shape.coords if post.kind == "segment" else [post.shape.coords[0]])
        worst = float(network.snap(coords[:, :2], mode).distance_m.max())
        if worst > limit:
            problems.append(
                Problem("posts.geojson", index, post.id, "geometry",
                        f"unreachable: {worst:,.0f} m from the {mode.value} network "
                        f"(max_snap_m is {limit:g})")
            )  # fmt: skip
    return problems
