"""Where visitors go: places on the network, and gravity choices between them.

A visitor picks each next stop with probability proportional to the attraction's popularity
at that hour times ``exp(-distance / distance_decay_m)`` (a gravity model), among attractions
not yet visited, within ``max_leg_m`` and close enough to reach and still get to an exit
before the visitor's time budget runs out. The way out is the entrance they came by (cars and
coaches wait there) with probability ``return_share``, otherwise an exit chosen by its share
and distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from lakeguard.twin.config import HOURS, TwinConfigError, VisitorConfig
from lakeguard.twin.routes import BoolArray, FloatArray, IntArray, Legs
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork

ENTRANCE_SNAP_M = 250.0  # an entrance is a stop or a car park near the paths, not on them


@dataclass(frozen=True)
class Places:
    """Entrances first, then attractions, each at a node of the visitors' network."""

    ids: tuple[str, ...]
    node: IntArray
    entrances: int
    area: IntArray  # the area a visitor staying at an attraction counts in; -1 for entrances


def resolve_places(
    config: VisitorConfig, scenario: Scenario, network: TravelNetwork, usable: BoolArray,
    source: str,
) -> Places:  # fmt: skip
    """Snap entrances and attractions to the network; raise naming any that do not fit."""
    area_index = {a.id: i for i, a in enumerate(scenario.areas)}
    node_area = _node_areas(network, usable)
    open_nodes = np.flatnonzero(node_area != -2)
    tree = cKDTree(network.node_xy[open_nodes])
    nodes: list[int] = []
    areas: list[int] = []
    for i, entrance in enumerate(config.entrances):
        xy = network.to_xy([entrance.at])[0]
        distance, k = tree.query(xy)
        if distance > ENTRANCE_SNAP_M:
            raise TwinConfigError(
                f"{source}: visitors.entrances[{i}] ({entrance.id}): at: {distance:,.0f} m "
                f"from the walk network (at most {ENTRANCE_SNAP_M:g})"
            )
        nodes.append(int(open_nodes[k]))
        areas.append(-1)
    for i, attraction in enumerate(config.attractions):
        where = f"{source}: visitors.attractions[{i}] ({attraction.id})"
        if attraction.area not in area_index:
            raise TwinConfigError(f"{where}: area: unknown area {attraction.area!r}")
        a = area_index[attraction.area]
        inside = np.flatnonzero(node_area == a)
        if not len(inside):
            raise TwinConfigError(f"{where}: area: no walk path lies inside {attraction.area!r}")
        if attraction.at is not None:
            target = network.to_xy([attraction.at])[0]
        else:
            centre = network.projection.geometry_to_xy(
                scenario.areas[a].shape
            ).representative_point()
            target = np.array([centre.x, centre.y])
        gap = np.hypot(*(network.node_xy[inside] - target).T)
        if attraction.at is not None and gap.min() > ENTRANCE_SNAP_M:
            raise TwinConfigError(
                f"{where}: at: {gap.min():,.0f} m from the paths of {attraction.area!r} "
                f"(at most {ENTRANCE_SNAP_M:g})"
            )
        nodes.append(int(inside[np.argmin(gap)]))
        areas.append(a)
    ids = tuple(e.id for e in config.entrances) + tuple(a.id for a in config.attractions)
    return Places(ids, np.array(nodes), len(config.entrances), np.array(areas))


def _node_areas(network: TravelNetwork, usable: BoolArray) -> IntArray:
    """Each node's area when all its usable edges lie in one area; -1 mixed, -2 no edges."""
    edges = np.flatnonzero(usable)
    ends = np.concatenate([network.edge_u[edges], network.edge_v[edges]])
    area = np.tile(network.edge_area[edges], 2)
    n = network.node_count
    low = np.full(n, np.iinfo(np.int64).max)
    high = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(low, ends, area)
    np.maximum.at(high, ends, area)
    result = np.where(low == high, low, -1)
    result[low == np.iinfo(np.int64).max] = -2
    return np.asarray(result, dtype=np.int64)


class Chooser:
    """Gravity choices of the next attraction and of the exit."""

    def __init__(self, config: VisitorConfig, places: Places, legs: Legs) -> None:
        route = config.itinerary
        e = places.entrances
        self.entrances = e
        cost = legs.cost_m
        to_stop = cost[:, e:]
        self.to_stop = np.where(np.isfinite(to_stop), to_stop, np.inf)
        reach = np.exp(-np.minimum(self.to_stop, 1e7) / route.distance_decay_m)
        self.reach = np.where(self.to_stop <= route.max_leg_m, reach, 0.0)
        weight = np.array([a.weight for a in config.attractions])
        profile = np.array([config.profiles[a.profile] for a in config.attractions])
        self.popularity: FloatArray = (profile * weight[:, None]).T  # (hours, attractions)
        to_exit = cost[:, :e]
        share = np.array([x.share for x in config.entrances])
        self.share = share / share.sum()
        self.exit_weight = self.share * np.exp(-np.minimum(to_exit, 1e7) / route.exit_decay_m)
        self.exit_weight[~np.isfinite(to_exit)] = 0.0
        for i in range(e):
            self.exit_weight[i, i] = self.share[i]  # leaving where one stands: no walk at all
        self.exit_reachable = np.isfinite(to_exit) | np.eye(len(cost), e, dtype=bool)
        self.exit_m = np.where(np.isfinite(to_exit), to_exit, np.inf).min(axis=1)[e:]
        self.return_share = route.return_share
        self.leave_weight = route.leave_weight
        self.bits = np.int64(1) << np.arange(len(config.attractions), dtype=np.int64)

    def next_stops(
        self, place: IntArray, hour: int, visited: IntArray, budget_m: FloatArray,
        rng: np.random.Generator,
    ) -> IntArray:  # fmt: skip
        """The attraction each visitor goes to next, or -1 for none (time to leave)."""
        if not len(place):
            return np.empty(0, dtype=np.int64)
        weight = self.reach[place] * self.popularity[hour % HOURS]
        weight *= (visited[:, None] & self.bits) == 0
        weight *= (self.to_stop[place] + self.exit_m) <= budget_m[:, None]
        # After the first stop, going home competes with what is near (a logit's outside
        # option): a visitor among weak or far attractions leaves sooner.
        home = np.where(visited != 0, self.leave_weight, 0.0)
        return _pick(np.column_stack([weight, home]), rng, none=weight.shape[1])

    def exits(self, place: IntArray, home: IntArray, rng: np.random.Generator) -> IntArray:
        """The entrance each visitor leaves by."""
        choice = _pick(self.exit_weight[place], rng)
        back = (rng.random(len(place)) < self.return_share) & self.exit_reachable[place, home]
        choice = np.where(back | (choice < 0), home, choice)
        return np.asarray(choice, dtype=np.int64)


def _pick(weight: FloatArray, rng: np.random.Generator, none: int | None = None) -> IntArray:
    """One column per row with probability proportional to the row's weights.

    -1 where a row is all zeros, and where the column ``none`` is picked.
    """
    cum = np.cumsum(weight, axis=1)
    total = cum[:, -1]
    u = rng.random(len(weight)) * total
    choice = (cum <= u[:, None]).sum(axis=1)
    choice = np.minimum(choice, weight.shape[1] - 1)
    choice = np.where(total > 0, choice, -1)
    if none is not None:
        choice = np.where(choice == none, -1, choice)
    return np.asarray(choice, dtype=np.int64)


def hourly_weights(values: list[float]) -> npt.NDArray[np.float64]:
    """Hourly shares normalised to sum to one."""
    array = np.asarray(values, dtype=np.float64)
    return np.asarray(array / array.sum(), dtype=np.float64)
