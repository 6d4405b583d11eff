"""Paths a unit actually moves along: shortest routes as timed polylines, and patrol beats.

:class:`~lakeguard.venue.network.TravelNetwork` answers *how long*; the twin also needs
*which way*, to move a unit along it. A route here is timed exactly as the network times it
(snap onto the nearest edge of the mode, walk on and off the network at a given speed, edge
costs from the same arrays), so at free flow its duration equals ``travel_times``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from lakeguard.twin.frame import FloatArray
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import Mode

_EPSILON_S = 1e-9


@dataclass(frozen=True)
class Route:
    """A timed polyline: the mover is at ``xy[k]`` at ``t[k]`` (seconds from the start)."""

    t: FloatArray
    xy: FloatArray  # (n, 2) metres in the network's projection

    @property
    def duration_s(self) -> float:
        return float(self.t[-1])

    @property
    def length_m(self) -> float:
        return float(np.hypot(*np.diff(self.xy, axis=0).T).sum())

    def then(self, other: Route) -> Route:
        """This route followed by another that starts where this one ends."""
        return Route(
            np.concatenate([self.t, other.t[1:] + self.t[-1]]),
            np.concatenate([self.xy, other.xy[1:]]),
        )

    def stretched(self, duration_s: float) -> Route:
        """The same path taken more slowly, lasting ``duration_s``."""
        if self.duration_s <= 0:
            return Route(np.array([0.0, duration_s]), np.vstack([self.xy[0], self.xy[-1]]))
        return Route(self.t * (duration_s / self.duration_s), self.xy)


def straight(a: FloatArray, b: FloatArray, speed_ms: float) -> Route:
    """A straight line at constant speed (a drone, or a walk off the network)."""
    return Route(np.array([0.0, float(np.hypot(*(b - a))) / speed_ms]), np.vstack([a, b]))


class Unreachable(ValueError):
    """The destination lies on a piece of the mode's network the start cannot reach."""


class Router:
    """Shortest routes on one venue's network, with the path kept."""

    def __init__(self, network: TravelNetwork) -> None:
        self.network = network

    def free_cost(self, mode: Mode, speed_ms: float | None = None) -> FloatArray:
        """Seconds per edge at a constant speed (the mode's own speed when None)."""
        speed = self.network.speeds.of(mode) if speed_ms is None else speed_ms
        return np.asarray(self.network.edge_length / speed, dtype=np.float64)

    def route(
        self,
        mode: Mode,
        a: FloatArray,
        b: FloatArray,
        edge_cost: FloatArray,
        access_ms: float,
    ) -> Route:
        """Fastest route from ``a`` to ``b`` (metres) on a mode's edges at the given costs.

        Both ends are snapped onto their nearest edge and walked to and from it in a straight
        line at ``access_ms``; a start and an end on the same edge may go straight along it.
        """
        net = self.network
        snaps = net.snap_xy(np.vstack([a, b]), mode)
        ea, eb = int(snaps.edge[0]), int(snaps.edge[1])
        fa, fb = float(snaps.fraction[0]), float(snaps.fraction[1])
        pa, pb = self._point_on(ea, fa), self._point_on(eb, fb)
        on_a = float(snaps.distance_m[0]) / access_ms
        off_b = float(snaps.distance_m[1]) / access_ms
        wa, wb = float(edge_cost[ea]), float(edge_cost[eb])
        ua, va = int(net.edge_u[ea]), int(net.edge_v[ea])
        ub, vb = int(net.edge_u[eb]), int(net.edge_v[eb])
        dist, pred = self._search(
            mode, edge_cost, [(ua, on_a + fa * wa), (va, on_a + (1 - fa) * wa)]
        )
        via = [(dist[ub] + fb * wb, ub), (dist[vb] + (1 - fb) * wb, vb)]
        best, last = min(via)
        if ea == eb:
            best = min(best, on_a + abs(fa - fb) * wa)
        if not np.isfinite(best):
            raise Unreachable(f"no {mode.value} route between these points")
        if ea == eb and on_a + abs(fa - fb) * wa <= best:
            t = [0.0, on_a, on_a + abs(fa - fb) * wa]
            return _route([*t, t[-1] + off_b], [a, pa, pb, b])
        nodes = _unwind(pred, last, len(dist) - 1)
        times = [0.0, on_a, *dist[nodes].tolist(), best, best + off_b]
        points = [a, pa, *net.node_xy[nodes], pb, b]
        return _route(times, points)

    def _search(
        self, mode: Mode, edge_cost: FloatArray, entries: list[tuple[int, float]]
    ) -> tuple[FloatArray, np.ndarray]:
        indptr, cols, refs = self.network.adjacency(mode)
        n = self.network.node_count
        entries = sorted(entries)
        if entries[0][0] == entries[1][0]:
            entries = [min(entries, key=lambda e: e[1])]
        graph = csr_matrix(
            (
                np.concatenate([np.maximum(edge_cost[refs], _EPSILON_S),
                                [max(c, _EPSILON_S) for _, c in entries]]),
                np.concatenate([cols, [node for node, _ in entries]]),
                np.concatenate([indptr, [indptr[-1] + len(entries)]]),
            ),
            shape=(n + 1, n + 1),
        )  # fmt: skip
        dist, pred = dijkstra(graph, directed=True, indices=n, return_predecessors=True)
        return np.asarray(dist, dtype=np.float64), np.asarray(pred)

    def _point_on(self, edge: int, fraction: float) -> FloatArray:
        net = self.network
        a, b = net.node_xy[net.edge_u[edge]], net.node_xy[net.edge_v[edge]]
        return np.asarray(a + fraction * (b - a), dtype=np.float64)

    def kerb(self, xy: FloatArray, mode: Mode) -> tuple[FloatArray, float]:
        """The nearest point of a mode's network to ``xy``, and how far it is."""
        snaps = self.network.snap_xy(np.atleast_2d(xy), mode)
        return self._point_on(int(snaps.edge[0]), float(snaps.fraction[0])), float(
            snaps.distance_m[0]
        )

    def beat(self, vertices: FloatArray, mode: Mode) -> FloatArray:
        """A patrol line on a mode's network through the snapped vertices of a post's line."""
        cost = self.free_cost(mode)
        points: list[FloatArray] = []
        for a, b in itertools.pairwise(vertices):
            leg = self.route(mode, a, b, cost, self.network.speeds.of(mode))
            inner = leg.xy[1:-1]  # on the network: drop the walks on and off
            points.extend(inner if not points else inner[1:])
        return _dedupe(np.asarray(points, dtype=np.float64).reshape(-1, 2))

    def roam_beat(self, start: FloatArray, mode: Mode, radius_m: float, pick: float) -> FloatArray:
        """A line from ``start`` to a network node within ``radius_m`` (chosen by ``pick``)."""
        snaps = self.network.snap_xy(np.atleast_2d(start), mode)
        edge = int(snaps.edge[0])
        cost = np.asarray(self.network.edge_length, dtype=np.float64)
        f = float(snaps.fraction[0])
        u, v = int(self.network.edge_u[edge]), int(self.network.edge_v[edge])
        dist, _ = self._search(mode, cost, [(u, f * cost[edge]), (v, (1 - f) * cost[edge])])
        reachable = np.flatnonzero((dist[:-1] <= radius_m) & (dist[:-1] >= radius_m / 3))
        if not len(reachable):
            reachable = np.flatnonzero(np.isfinite(dist[:-1]))
        target = self.network.node_xy[reachable[int(pick * len(reachable)) % len(reachable)]]
        return self.beat(np.vstack([start, target]), mode)


def along(line: FloatArray, xy: FloatArray) -> float:
    """How far along a polyline the point nearest ``xy`` lies, m."""
    return float(shapely.LineString(line).project(shapely.Point(xy)))


def _route(times: list[float], points: list[FloatArray]) -> Route:
    t = np.maximum.accumulate(np.asarray(times, dtype=np.float64))
    return Route(t, np.asarray(points, dtype=np.float64).reshape(-1, 2))


def _unwind(pred: np.ndarray, last: int, source: int) -> list[int]:
    nodes = [last]
    while pred[nodes[-1]] >= 0 and pred[nodes[-1]] != source:
        nodes.append(int(pred[nodes[-1]]))
    return nodes[::-1]


def _dedupe(points: FloatArray) -> FloatArray:
    if len(points) < 2:
        return points
    keep = np.concatenate([[True], np.hypot(*np.diff(points, axis=0).T) > 1e-6])
    return np.asarray(points[keep], dtype=np.float64)
