"""One-minute circles: how much of each hotspot the patrol posts reach in time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import shapely

from lakeguard.venue.geometry import FloatArray
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.reach import coverage_within
from lakeguard.venue.schema import DOMAIN_MODE, AreaKind, Mode


@dataclass(frozen=True)
class HotspotCoverage:
    area_id: str
    name_en: str
    name_zh: str
    share: float
    capacity: int | None


def post_origins(scenario: Scenario, network: TravelNetwork, mode: Mode) -> FloatArray:
    """Lon/lat points a unit of a post may start from: the point, or along the segment.

    Segments are sampled every ``densify_m``, since the unit walking one may be anywhere on it.
    """
    step = scenario.config.network.densify_m
    points = []
    for post in scenario.posts:
        if DOMAIN_MODE[post.domain] != mode:
            continue
        if post.kind == "point":
            points.append(np.array(post.shape.coords)[:, :2])
            continue
        line = network.projection.geometry_to_xy(post.shape)
        at = np.append(np.arange(0, line.length, step), line.length)
        xy = shapely.get_coordinates(shapely.line_interpolate_point(line, at))
        lon, lat = network.projection.to_lonlat(xy[:, 0], xy[:, 1])
        points.append(np.column_stack([lon, lat]))
    return np.concatenate(points) if points else np.empty((0, 2))


def hotspot_coverage(
    scenario: Scenario,
    network: TravelNetwork,
    seconds: float,
    *,
    mode: Mode = Mode.WALK,
    densities: Mapping[str, float] | None = None,
) -> list[HotspotCoverage]:
    """Share of each hotspot's area reachable from the posts of ``mode`` within ``seconds``."""
    hotspots = {a.id: a for a in scenario.areas if a.kind == AreaKind.HOTSPOT}
    origins = post_origins(scenario, network, mode)
    if not len(origins):
        shares = {area_id: 0.0 for area_id in hotspots}
    else:
        found = coverage_within(
            network,
            origins,
            seconds,
            {area_id: area.shape for area_id, area in hotspots.items()},
            mode=mode,
            densities=densities,
        )
        shares = {c.area_id: c.share for c in found}
    return [
        HotspotCoverage(a.id, a.name.en, a.name.zh, shares[a.id], a.capacity)
        for a in hotspots.values()
    ]
