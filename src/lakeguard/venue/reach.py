"""Who can get where, how fast: the fastest units to a location and isochrone coverage.

Both are pure functions over a :class:`TravelNetwork`; dispatch and the coverage report call
them with the current unit positions and crowd densities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from lakeguard.venue.geometry import FloatArray
from lakeguard.venue.network import IntArray, PreparedTargets, Snaps, TravelNetwork
from lakeguard.venue.schema import Mode


@dataclass(frozen=True)
class Fleet:
    """Unit positions snapped once, so that each dispatch query only snaps the incident."""

    ids: tuple[str, ...]
    modes: tuple[Mode, ...]
    xy: FloatArray
    snaps: Mapping[Mode, tuple[IntArray, Snaps]]  # per network mode: unit indices, snaps
    drones: IntArray  # indices of the units that fly
    prepared: Mapping[Mode, PreparedTargets]  # the snaps with their free-flow costs

    @classmethod
    def place(
        cls,
        network: TravelNetwork,
        ids: Sequence[str],
        lonlat: npt.ArrayLike,
        modes: Sequence[Mode],
    ) -> Fleet:
        """Snap units at lon/lat positions, each onto its own mode's network."""
        if len(ids) != len(modes):
            raise ValueError("one mode per unit is required")
        xy = np.ascontiguousarray(network.to_xy(lonlat)) if len(ids) else np.empty((0, 2))
        mode_arr = np.array([m.value for m in modes])
        snaps: dict[Mode, tuple[IntArray, Snaps]] = {}
        for mode in {m for m in modes if m != Mode.DRONE}:
            members = np.flatnonzero(mode_arr == mode.value)
            snaps[mode] = (members, network.snap_xy(xy[members], mode))
        drones = np.flatnonzero(mode_arr == Mode.DRONE.value).astype(np.int64)
        prepared = {mode: network.prepare_targets(s) for mode, (_, s) in snaps.items()}
        return cls(tuple(ids), tuple(modes), xy, snaps, drones, prepared)


@dataclass(frozen=True)
class RankedUnit:
    """One unit's estimated time to a location."""

    unit_id: str
    mode: Mode
    seconds: float
    straight_m: float  # straight-line distance, for the dispatcher's sense of scale


def fastest_units(
    network: TravelNetwork,
    fleet: Fleet,
    lonlat: tuple[float, float],
    k: int = 5,
    *,
    densities: Mapping[str, float] | None = None,
) -> list[RankedUnit]:
    """The ``k`` units that reach a location soonest, ranked over every unit of every mode.

    Exact: every unit is timed along the network, none is dropped by a straight-line filter.
    One shortest-path pass per mode runs outwards from the location (the network is
    undirected, so time from the location equals time to it) and stops at a time bound; if
    fewer than ``k`` units of the mode lie within the bound the pass is run again unbounded,
    so the bound only saves work, it never changes the answer.
    """
    target_xy = network.to_xy([lonlat])
    dx, dy = fleet.xy[:, 0] - target_xy[0, 0], fleet.xy[:, 1] - target_xy[0, 1]
    straight = np.sqrt(dx * dx + dy * dy)
    seconds = np.full(len(fleet.ids), np.inf)
    for mode, (members, unit_snaps) in fleet.snaps.items():
        target = network.snap_xy(target_xy, mode)
        bound = search_bound(network, mode, straight[members], float(target.distance_m[0]), k)
        prepared = None if densities else fleet.prepared[mode]
        times = _times_within(network, target, unit_snaps, densities, bound, prepared)
        if np.count_nonzero(times <= bound) < min(k, len(members)):
            times = _times_within(network, target, unit_snaps, densities, np.inf, prepared)
        seconds[members] = times
    speeds = network.speeds
    seconds[fleet.drones] = speeds.drone_launch_s + straight[fleet.drones] / speeds.drone
    k = min(k, len(seconds))
    if k <= 0:
        return []
    best = np.argpartition(seconds, k - 1)[:k]
    best = best[np.argsort(seconds[best], kind="stable")]
    return [
        RankedUnit(fleet.ids[i], fleet.modes[i], float(seconds[i]), float(straight[i]))
        for i in best
        if np.isfinite(seconds[i])
    ]


def search_bound(
    network: TravelNetwork, mode: Mode, straight_m: FloatArray, access_m: float, k: int
) -> float:
    """A time within which the ``k`` nearest units of a mode are likely to be found.

    Twice the k-th nearest straight-line distance at the mode's speed allows for detours;
    the walk to and from the network and a minute of slack cover the rest. Only a guess:
    a bound that finds too few units triggers an unbounded search.
    """
    if not len(straight_m):
        return np.inf
    kth = float(np.partition(straight_m, min(k, len(straight_m)) - 1)[min(k, len(straight_m)) - 1])
    walk = network.speeds.walk
    return 2.0 * kth / network.speeds.of(mode) + 2.0 * (access_m + kth) / walk + 60.0


def _times_within(
    network: TravelNetwork,
    target: Snaps,
    units: Snaps,
    densities: Mapping[str, float] | None,
    bound: float,
    prepared: PreparedTargets | None = None,
) -> FloatArray:
    """Each unit's time to the target, exact up to ``bound`` and inf beyond it."""
    node_times = network.times_from([target], densities=densities, limit=bound)
    if prepared is not None:
        times = network.times_at_prepared(node_times[0], prepared, target)
    else:
        times = network.times_at(node_times, units, densities, [target])[0]
    times[times > bound] = np.inf
    return times


@dataclass(frozen=True)
class AreaCoverage:
    """The share of an area reachable within a time from a set of posts."""

    area_id: str
    share: float
    samples: int


def area_samples_xy(
    area_xy: BaseGeometry, target: int = 400, min_spacing_m: float = 2.0
) -> FloatArray:
    """A regular grid of points inside a projected polygon, about ``target`` of them."""
    minx, miny, maxx, maxy = area_xy.bounds
    spacing = max(min_spacing_m, float(np.sqrt(area_xy.area / target)))
    xs = np.arange(minx + spacing / 2, maxx, spacing)
    ys = np.arange(miny + spacing / 2, maxy, spacing)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    inside = shapely.contains_xy(area_xy, grid[:, 0], grid[:, 1])
    if not inside.any():
        centroid = area_xy.representative_point()
        return np.array([[centroid.x, centroid.y]])
    return np.asarray(grid[inside], dtype=np.float64)


def coverage_within(
    network: TravelNetwork,
    origins_lonlat: npt.ArrayLike,
    seconds: float,
    areas: Mapping[str, BaseGeometry],
    *,
    mode: Mode = Mode.WALK,
    densities: Mapping[str, float] | None = None,
) -> list[AreaCoverage]:
    """For each area (lon/lat polygon), the share of it reachable within ``seconds``.

    The area is sampled on a regular grid; a sample counts as covered when the fastest
    origin reaches it (along the network, then on foot from the nearest path) in time.
    """
    origins = network.snap(origins_lonlat, mode)
    node_times = network.times_from([origins], densities=densities, limit=seconds)
    result = []
    for area_id, polygon in areas.items():
        samples = area_samples_xy(network.projection.geometry_to_xy(polygon))
        targets = network.snap_xy(samples, mode)
        reach = network.times_at(node_times, targets, densities, [origins])[0]
        result.append(AreaCoverage(area_id, float(np.mean(reach <= seconds)), len(samples)))
    return result


def reachable_nodes(
    network: TravelNetwork,
    origins_lonlat: npt.ArrayLike,
    seconds: float,
    *,
    mode: Mode = Mode.WALK,
    densities: Mapping[str, float] | None = None,
) -> npt.NDArray[np.bool_]:
    """The isochrone as a node mask: nodes reachable from any origin within ``seconds``."""
    origins = network.snap(origins_lonlat, mode)
    times = network.times_from([origins], densities=densities, limit=seconds)[0]
    return np.asarray(times <= seconds)
