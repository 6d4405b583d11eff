"""Routes between the twin's places, precomputed as arrays of short cells.

Every visitor walks from one *place* (an entrance or an attraction) to another along the
shortest path of the walk network (boat lanes where walking does not reach, as to the Three
Pools island). All such legs are worked out once and laid end to end in flat arrays of
``CELL_M`` cells, each tagged with the area it lies in and whether it is a boat ride, and with
the counting-line crossings on it. A walker is then a leg number and a distance along it: its
cell is one index computation, so a step over all walkers is a handful of numpy operations.

Counting lines sit a few metres inside their area's edge, while the area of a path piece is
decided by its midpoint. So that what a line counts matches the occupancy it implies, the cells
between a line and the area's edge it guards are given to the neighbouring area: on a leg, the
line *is* the boundary. Entrances are outside every area until their first line, so a metro
exit's line counts the people coming up from the station.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import NETWORK_MODES, Mode, SensorKind

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

CELL_M = 5.0  # positions, area edges and counting lines resolve to this; a minute's walk is ~70 m
RELABEL_M = 60.0  # a counting line this close to its area's edge on a leg is that edge
_WALK, _BOAT = NETWORK_MODES.index(Mode.WALK), NETWORK_MODES.index(Mode.BOAT)


def visitor_edges(network: TravelNetwork) -> BoolArray:
    """Edges visitors use: walking paths, and boat lanes (tourist boats)."""
    return np.asarray(network.edge_modes[:, _WALK] | network.edge_modes[:, _BOAT])


@dataclass(frozen=True)
class LineSensors:
    """Counting lines (gates and checkpoints) where they cross the visitors' network."""

    ids: tuple[str, ...]
    area: IntArray  # area index of each line's sensor
    edges: dict[int, list[tuple[int, float, bool]]]  # edge: (line, fraction, inward u→v)


def line_sensors(scenario: Scenario, network: TravelNetwork, usable: BoolArray) -> LineSensors:
    """Where each gate line and checkpoint meets the network, and which way is ``in``."""
    area_index = {a.id: i for i, a in enumerate(scenario.areas)}
    projection = network.projection
    edges = np.flatnonzero(usable)
    a, b = network.node_xy[network.edge_u[edges]], network.node_xy[network.edge_v[edges]]
    tree = shapely.STRtree(shapely.linestrings(np.stack([a, b], axis=1)))
    ids: list[str] = []
    areas: list[int] = []
    hits: dict[int, list[tuple[int, float, bool]]] = {}
    for sensor in scenario.sensors:
        if sensor.kind not in (SensorKind.GATE, SensorKind.CHECKPOINT):
            continue
        line = len(ids)
        ids.append(sensor.id)
        areas.append(area_index[sensor.area])
        shape = projection.geometry_to_xy(sensor.shape)
        if sensor.kind == SensorKind.GATE:
            found = _gate_hits(shape, tree, a, b)
        else:
            centre = projection.geometry_to_xy(
                scenario.areas[area_index[sensor.area]].shape
            ).representative_point()
            found = _checkpoint_hits(shape, (centre.x, centre.y), tree, a, b, network)
        for k, fraction, inward in found:
            hits.setdefault(int(edges[k]), []).append((line, fraction, inward))
    return LineSensors(tuple(ids), np.array(areas, dtype=np.int64), hits)


def _gate_hits(
    shape: shapely.LineString, tree: shapely.STRtree, a: FloatArray, b: FloatArray
) -> list[tuple[int, float, bool]]:
    coords = np.asarray(shape.coords)[:, :2]
    direction = coords[-1] - coords[0]
    found = []
    for k in tree.query(shape, predicate="intersects").tolist():
        d = b[k] - a[k]
        # Crossing left to right of the line as drawn is "in": the path turns clockwise of it.
        inward = direction[0] * d[1] - direction[1] * d[0] < 0
        segment = shapely.LineString([a[k], b[k]])
        point = segment.intersection(shape)
        fraction = segment.project(point.centroid, normalized=True) if not point.is_empty else 0.5
        found.append((k, float(fraction), bool(inward)))
    return found


def _checkpoint_hits(
    shape: shapely.Point,
    centre: tuple[float, float],
    tree: shapely.STRtree,
    a: FloatArray,
    b: FloatArray,
    network: TravelNetwork,
) -> list[tuple[int, float, bool]]:
    """A checkpoint counts people passing its nearest path; ``in`` heads for its area's centre."""
    k, distance = tree.query_nearest(shape, return_distance=True, all_matches=False)
    if not len(k) or float(distance[0]) > 60.0:
        return []
    k = int(k[0])
    d = b[k] - a[k]
    p = np.array([shape.x, shape.y])
    fraction = float(np.clip(np.dot(p - a[k], d) / max(float(np.dot(d, d)), 1e-9), 0.0, 1.0))
    inward = float(np.dot(d, np.array(centre) - p)) > 0
    return [(k, fraction, inward)]


@dataclass(frozen=True)
class Legs:
    """Every leg between two places, as flat arrays of cells."""

    index: IntArray  # (places, places): leg number, -1 where there is none
    length_m: FloatArray  # metres of each leg
    cost_m: FloatArray  # (places, places): route-choice length (boat metres weighted)
    offset: IntArray  # first cell of each leg
    cell_area: npt.NDArray[np.int16]  # area index of each cell; len(areas) is "no area"
    cell_boat: BoolArray  # the cell is a boat ride
    cross_start: npt.NDArray[np.int32]  # crossings before each cell boundary (cumulative)
    cross_line: npt.NDArray[np.int16]  # the line of each crossing, in cell order
    cross_inward: BoolArray

    @property
    def cells(self) -> int:
        return len(self.cell_area)


def build_legs(
    network: TravelNetwork,
    place_nodes: IntArray,
    entrances: int,
    lines: LineSensors,
    boat_cost_factor: float,
) -> Legs:
    """Shortest legs between all places; the first ``entrances`` places are entrances."""
    walk = network.edge_modes[:, _WALK]
    boat = network.edge_modes[:, _BOAT] & ~walk
    usable = np.flatnonzero(walk | boat)
    cost = network.edge_length * np.where(boat, boat_cost_factor, 1.0)
    n = network.node_count
    rows = np.concatenate([network.edge_u[usable], network.edge_v[usable]])
    cols = np.concatenate([network.edge_v[usable], network.edge_u[usable]])
    graph = csr_matrix((np.tile(np.maximum(cost[usable], 1e-6), 2), (rows, cols)), shape=(n, n))
    dist, pred = dijkstra(graph, directed=True, indices=place_nodes, return_predecessors=True)
    edge_of = {}
    for e in usable.tolist():
        u, v = int(network.edge_u[e]), int(network.edge_v[e])
        edge_of[(u, v)] = e
        edge_of[(v, u)] = e
    places = len(place_nodes)
    builder = _CellBuilder(network, lines, boat)
    index = np.full((places, places), -1, dtype=np.int64)
    cost_m = np.full((places, places), np.inf)
    for i in range(places):
        for j in range(places):
            target = int(place_nodes[j])
            if i == j or not np.isfinite(dist[i, target]):
                continue
            cost_m[i, j] = dist[i, target]
            path = _path(pred[i], int(place_nodes[i]), target)
            index[i, j] = builder.add(path, edge_of, i < entrances, j < entrances)
    return builder.finish(index, cost_m)


def _path(pred: npt.NDArray[np.int32], source: int, target: int) -> list[int]:
    nodes = [target]
    while nodes[-1] != source:
        nodes.append(int(pred[nodes[-1]]))
    return nodes[::-1]


class _CellBuilder:
    def __init__(self, network: TravelNetwork, lines: LineSensors, boat: BoolArray) -> None:
        self.network = network
        self.lines = lines
        self.boat = boat
        self.no_area = len(network.area_ids)
        self.edge_area = np.where(network.edge_area < 0, self.no_area, network.edge_area)
        self.areas: list[npt.NDArray[np.int16]] = []
        self.boats: list[BoolArray] = []
        self.crossings: list[tuple[int, int, bool]] = []  # (global boundary, line, inward)
        self.length: list[float] = []
        self.offset: list[int] = []
        self.total = 0

    def add(
        self, path: list[int], edge_of: dict[tuple[int, int], int], from_entrance: bool,
        to_exit: bool,
    ) -> int:  # fmt: skip
        net = self.network
        steps = list(itertools.pairwise(path))
        edges = np.array([edge_of[step] for step in steps], dtype=np.int64)
        forward = np.array([net.edge_u[e] == u for e, (u, _) in zip(edges, steps, strict=True)])
        lengths = net.edge_length[edges]
        ends = np.cumsum(lengths)
        total = float(ends[-1]) if len(ends) else 0.0
        cells = int(total // CELL_M) + 1
        mid = np.minimum((np.arange(cells) + 0.5) * CELL_M, max(total - 1e-9, 0.0))
        which = np.minimum(np.searchsorted(ends, mid, side="right"), max(len(edges) - 1, 0))
        area = self.edge_area[edges[which]] if len(edges) else np.full(cells, self.no_area)
        area = area.astype(np.int16)
        crossings = []
        starts = ends - lengths
        for k in np.flatnonzero([int(e) in self.lines.edges for e in edges]).tolist():
            for line, fraction, inward in self.lines.edges[int(edges[k])]:
                along = fraction if forward[k] else 1.0 - fraction
                at = (starts[k] + along * lengths[k]) / CELL_M
                boundary = min(max(round(at), 1), cells - 1)
                if boundary < 1:
                    continue
                crossings.append((boundary, line, bool(inward == forward[k])))
        for boundary, line, inward in sorted(crossings):
            _line_is_edge(area, boundary, int(self.lines.area[line]), inward, self.no_area,
                          from_entrance, to_exit)  # fmt: skip
        leg = len(self.offset)
        self.offset.append(self.total)
        self.length.append(total)
        self.areas.append(area)
        self.boats.append(self.boat[edges[which]] if len(edges) else np.zeros(cells, bool))
        self.crossings += [(self.total + b, line, inward) for b, line, inward in crossings]
        self.total += cells
        return leg

    def finish(self, index: IntArray, cost_m: FloatArray) -> Legs:
        crossings = sorted(self.crossings)
        boundary = np.array([c[0] for c in crossings], dtype=np.int64)
        counts = np.bincount(boundary, minlength=self.total + 1)
        return Legs(
            index=index,
            length_m=np.array(self.length),
            cost_m=cost_m,
            offset=np.array(self.offset, dtype=np.int64),
            cell_area=np.concatenate(self.areas).astype(np.int16),
            cell_boat=np.concatenate(self.boats).astype(bool),
            cross_start=np.concatenate([[0], np.cumsum(counts)]).astype(np.int32),
            cross_line=np.array([c[1] for c in crossings], dtype=np.int16),
            cross_inward=np.array([c[2] for c in crossings], dtype=bool),
        )


def _line_is_edge(
    area: npt.NDArray[np.int16], boundary: int, line_area: int, inward: bool, no_area: int,
    from_entrance: bool, to_exit: bool,
) -> None:  # fmt: skip
    """Move the area's edge on this leg to the counting line, when the line is near it."""
    reach = int(RELABEL_M // CELL_M)
    if inward:
        # Cells before the line that are already the line's area belong to where one came from.
        run = _run(area, boundary - 1, -1, line_area, reach)
        if run is None:
            return
        first = run[0]
        if first > 0:
            area[first:boundary] = area[first - 1]
        elif from_entrance:
            area[:boundary] = no_area
    else:
        run = _run(area, boundary, 1, line_area, reach)
        if run is None:
            return
        last = run[1]
        if last < len(area) - 1:
            area[boundary : last + 1] = area[last + 1]
        elif to_exit:
            area[boundary:] = no_area


def _run(
    area: npt.NDArray[np.int16], start: int, step: int, value: int, reach: int
) -> tuple[int, int] | None:
    """The short run of ``value`` cells from ``start`` going ``step``; None if long or empty."""
    i, count = start, 0
    while 0 <= i < len(area) and area[i] == value:
        i += step
        count += 1
        if count > reach:
            return None
    if count == 0:
        return None
    ends = sorted((start, i - step))
    return ends[0], ends[1]
