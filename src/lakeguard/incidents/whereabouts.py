"""Where a unit may be now, from its last report and what it was doing (pure).

A report says where a unit was when it was taken, not where it is. The older it is, the
further the unit may have gone, within what it was doing:

- standing (last speed below ``standing_speed_ms``) with a fresh report: where it reported;
- patrolling a segment post: anywhere on the segment within ``patrol_speed · age`` of the
  reported spot, measured along the segment;
- placed at its home post (no fresh report): anywhere on the post's segment, or at the point;
- moving without a segment (roaming, driving): on a circle of ``patrol_speed · age`` around the
  last report, at most ``roam_radius_m``, the points the unit could have reached at most.

The result is a handful of sample positions: the ETA is timed from each, and its range
(p50/p90) says how much the unknown position matters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

from lakeguard.venue.geometry import FloatArray
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import Mode


def _default_patrol_speeds() -> dict[Mode, float]:
    # An unhurried beat: walkers stroll at about 1 m/s (well under the 1.34 m/s free walking
    # speed the network uses), patrol cars crawl along paths, boats idle along their lanes.
    return {Mode.WALK: 1.0, Mode.VEHICLE: 5.0, Mode.BOAT: 3.0, Mode.DRONE: 0.0}


@dataclass(frozen=True)
class WhereaboutsParams:
    patrol_speed_ms: Mapping[Mode, float] = field(default_factory=_default_patrol_speeds)
    standing_speed_ms: float = 0.3  # slower than this, a unit is standing (GPS drift aside)
    roam_radius_m: float = 300.0
    samples: int = 9


@dataclass(frozen=True)
class LastSeen:
    """What the recommender knows of a unit's position."""

    lon: float
    lat: float
    mode: Mode
    at_home_post: bool  # placed at its home post: no fresh report
    age_s: float | None  # of the last report; None: never reported
    speed_ms: float | None = None
    beat: tuple[tuple[float, float], ...] = ()  # the home post's segment (lon/lat), if any


def sample_positions(
    network: TravelNetwork, seen: LastSeen, params: WhereaboutsParams | None = None
) -> FloatArray:
    """Lon/lat positions the unit may be at now, an (n, 2) array; the first is the report."""
    p = params or WhereaboutsParams()
    here = np.array([[seen.lon, seen.lat]], dtype=np.float64)
    if seen.mode == Mode.DRONE:
        return here  # a drone waits at its station until sent
    reach = p.patrol_speed_ms.get(seen.mode, 0.0) * (seen.age_s or 0.0)
    beat = shapely.LineString(network.to_xy(np.array(seen.beat))) if len(seen.beat) > 1 else None
    if seen.at_home_post:
        if beat is None:
            return here
        return np.vstack([here, _along(network, beat, 0.0, beat.length, p.samples)])
    standing = seen.speed_ms is not None and seen.speed_ms < p.standing_speed_ms
    if standing or reach <= 0:
        return here
    if beat is not None:
        start = beat.project(shapely.Point(network.to_xy(here)[0]))
        low, high = max(0.0, start - reach), min(beat.length, start + reach)
        return np.vstack([here, _along(network, beat, low, high, p.samples)])
    radius = min(reach, p.roam_radius_m)
    centre = network.to_xy(here)[0]
    angles = np.linspace(0.0, 2 * math.pi, p.samples - 1, endpoint=False)
    ring = centre + radius * np.column_stack([np.cos(angles), np.sin(angles)])
    lon, lat = network.projection.to_lonlat(ring[:, 0], ring[:, 1])
    return np.vstack([here, np.column_stack([lon, lat])])


def _along(
    network: TravelNetwork, line: shapely.LineString, low: float, high: float, n: int
) -> FloatArray:
    """``n`` points evenly spread along a line between two distances from its start."""
    where = np.linspace(low, high, n) if high > low else np.array([low])
    points = shapely.line_interpolate_point(line, where)
    xy = shapely.get_coordinates(points)
    lon, lat = network.projection.to_lonlat(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat]).astype(np.float64)


def eta_range(
    travel: Sequence[float] | FloatArray, turnout: tuple[float, float]
) -> tuple[float, float]:
    """The ETA's p50 and p90: turnout plus the travel times from the sample positions."""
    times = np.asarray(travel, dtype=np.float64)
    times = times[np.isfinite(times)]
    if not len(times):
        return math.inf, math.inf
    p50, p90 = np.percentile(times, [50, 90])
    return turnout[0] + float(p50), turnout[1] + float(p90)
