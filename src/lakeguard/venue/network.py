"""Travel times over a venue's path network: a pure engine, built once per scenario.

The network is a graph whose nodes are line vertices (merged within a tolerance) plus the
points added when lines are cut into pieces of at most ``densify_m``. Each mode (walk,
vehicle, boat) is a subgraph in compressed sparse row form; shortest paths come from
``scipy.sparse.csgraph.dijkstra``. A location off the nodes (an incident, a unit) is snapped
onto the nearest edge of the mode's subgraph and enters the graph as a *virtual source*: an
extra row with edges to both ends of its snapped edge, weighted by the part of the edge it
still has to travel. Many such sources go into one call, so a many-to-many query is a single
pass in compiled code.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from lakeguard.venue.geometry import FloatArray, LocalProjection
from lakeguard.venue.schema import NETWORK_MODES, Mode, Speeds
from lakeguard.venue.speed import weidmann_speed

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
# Offsets of zero would be explicit zeros in the sparse matrix; keep them strictly positive.
_EPSILON_S = 1e-9


@dataclass(frozen=True)
class LineInput:
    """One network line as the engine needs it: id, modes and lon/lat vertices."""

    id: str
    modes: tuple[Mode, ...]
    coords: Sequence[tuple[float, float]]


@dataclass(frozen=True)
class Snaps:
    """Locations snapped onto one mode's edges (arrays of equal length)."""

    mode: Mode
    edge: IntArray
    fraction: FloatArray  # position along the edge, 0 at its first node, 1 at its second
    distance_m: FloatArray  # from the location to the snapped point
    x: FloatArray
    y: FloatArray

    def __len__(self) -> int:
        return len(self.edge)


@dataclass(frozen=True)
class PreparedTargets:
    """Snapped targets (a fleet) with their free-flow edge costs worked out once.

    Dispatch times the same two thousand units against a new incident every few seconds;
    their snapped edges and the free-flow cost of each part of those edges do not change
    between queries, so they are gathered here once instead of in every query.
    """

    snaps: Snaps
    u: IntArray
    v: IntArray
    to_u: FloatArray  # free-flow seconds from the snapped point to the edge's first node
    to_v: FloatArray
    access: FloatArray  # seconds on foot between the location and the network
    on_edge: Mapping[int, IntArray]  # which targets lie on each edge


@dataclass(frozen=True)
class Piece:
    """A connected piece of one mode's network."""

    nodes: IntArray
    lines: tuple[int, ...]  # indices of the input lines that have an edge in the piece


class TravelNetwork:
    """The path network of one venue, ready for travel-time queries."""

    def __init__(
        self,
        *,
        projection: LocalProjection,
        node_xy: FloatArray,
        edge_u: IntArray,
        edge_v: IntArray,
        edge_modes: npt.NDArray[np.bool_],
        edge_line: IntArray,
        speeds: Speeds,
        area_ids: Sequence[str] = (),
        area_shapes_xy: Sequence[BaseGeometry] = (),
    ) -> None:
        self.projection = projection
        self.node_xy = node_xy
        self.edge_u = edge_u
        self.edge_v = edge_v
        self.edge_modes = edge_modes
        self.edge_line = edge_line
        self.edge_length: FloatArray = np.hypot(*(node_xy[edge_u] - node_xy[edge_v]).T)
        self.speeds = speeds
        self.area_ids = tuple(area_ids)
        self.area_shapes_xy = tuple(area_shapes_xy)
        self.edge_area = self._locate_edges_in_areas()
        self._graphs = {mode: self._mode_structure(mode) for mode in NETWORK_MODES}
        self._trees = {mode: self._edge_tree(mode) for mode in NETWORK_MODES}
        # Free-flow edge times per mode, and the CSR data built from them: most queries
        # carry no crowd, and rebuilding these per query would cost more than the search.
        self._free_seconds: dict[Mode, FloatArray] = {
            m: self.edge_length / speeds.of(m) for m in NETWORK_MODES
        }
        self._free_data = {m: self._csr_data(m, self._free_seconds[m]) for m in NETWORK_MODES}
        self._single_cache: dict[
            tuple[Mode, tuple[tuple[str, float], ...]], _SingleSourceGraph
        ] = {}

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_lines(
        cls,
        lines: Sequence[LineInput],
        *,
        speeds: Speeds,
        densify_m: float = 25.0,
        node_tolerance_m: float = 1.0,
        areas: Mapping[str, BaseGeometry] | None = None,
    ) -> TravelNetwork:
        """Build the network from lon/lat lines; ``areas`` (lon/lat polygons) tag edges."""
        if not lines:
            raise ValueError("a network needs at least one line")
        all_lonlat = np.array([c[:2] for line in lines for c in line.coords], dtype=np.float64)
        lon0, lat0 = all_lonlat.mean(axis=0)
        projection = LocalProjection(float(lon0), float(lat0))
        x, y = projection.to_xy(all_lonlat[:, 0], all_lonlat[:, 1])
        vertex_xy = np.column_stack([x, y])
        vertex_node = _merge_close_vertices(vertex_xy, node_tolerance_m)
        node_xy = np.zeros((int(vertex_node.max()) + 1, 2))
        node_xy[vertex_node] = vertex_xy

        builder = _EdgeBuilder(node_xy, densify_m)
        start = 0
        for index, line in enumerate(lines):
            nodes = vertex_node[start : start + len(line.coords)]
            start += len(line.coords)
            mask = np.array([mode in line.modes for mode in NETWORK_MODES])
            for a, b in itertools.pairwise(nodes):
                builder.add(int(a), int(b), mask, index)
        areas = areas or {}
        return cls(
            projection=projection,
            node_xy=builder.node_xy(),
            edge_u=np.array(builder.u, dtype=np.int64),
            edge_v=np.array(builder.v, dtype=np.int64),
            edge_modes=np.array(builder.modes, dtype=bool).reshape(-1, len(NETWORK_MODES)),
            edge_line=np.array(builder.line, dtype=np.int64),
            speeds=speeds,
            area_ids=list(areas),
            area_shapes_xy=[projection.geometry_to_xy(shape) for shape in areas.values()],
        )

    def _locate_edges_in_areas(self) -> IntArray:
        located = np.full(len(self.edge_u), -1, dtype=np.int64)
        if not self.area_shapes_xy or not len(self.edge_u):
            return located
        mid = (self.node_xy[self.edge_u] + self.node_xy[self.edge_v]) / 2
        tree = shapely.STRtree(self.area_shapes_xy)
        edge_idx, area_idx = tree.query(shapely.points(mid), predicate="within")
        # Areas should not overlap; where they do, the first listed area wins.
        order = np.lexsort((area_idx, edge_idx))[::-1]
        located[edge_idx[order]] = area_idx[order]
        return located

    def _mode_structure(self, mode: Mode) -> tuple[Int32Array, Int32Array, IntArray]:
        """CSR row pointers, column indices and edge index of each entry (both directions).

        Row pointers and columns are int32, which scipy accepts without scanning them.
        """
        edges = np.flatnonzero(self.edge_modes[:, NETWORK_MODES.index(mode)])
        rows = np.concatenate([self.edge_u[edges], self.edge_v[edges]])
        cols = np.concatenate([self.edge_v[edges], self.edge_u[edges]])
        refs = np.concatenate([edges, edges])
        order = np.lexsort((cols, rows))
        counts = np.bincount(rows, minlength=self.node_count)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        return indptr, cols[order].astype(np.int32), refs[order].astype(np.int64)

    def _edge_tree(self, mode: Mode) -> tuple[shapely.STRtree, IntArray] | None:
        edges = np.flatnonzero(self.edge_modes[:, NETWORK_MODES.index(mode)])
        if not len(edges):
            return None
        segments = np.stack([self.node_xy[self.edge_u[edges]], self.node_xy[self.edge_v[edges]]], 1)
        return shapely.STRtree(shapely.linestrings(segments)), edges

    # -- facts ----------------------------------------------------------------------------

    @property
    def node_count(self) -> int:
        return len(self.node_xy)

    @property
    def edge_count(self) -> int:
        return len(self.edge_u)

    def has_mode(self, mode: Mode) -> bool:
        return mode in NETWORK_MODES and self._trees[mode] is not None

    def adjacency(self, mode: Mode) -> tuple[Int32Array, Int32Array, IntArray]:
        """A mode's graph in CSR form, both directions: row pointers, neighbour nodes, and the
        edge each entry travels (for routing with costs of one's own)."""
        return self._graphs[mode]

    def mode_nodes(self, mode: Mode) -> npt.NDArray[np.bool_]:
        """Which nodes have at least one edge of this mode."""
        indptr = self._graphs[mode][0]
        return np.diff(indptr) > 0

    def pieces(self, mode: Mode) -> list[Piece]:
        """The connected pieces of one mode's network, largest first."""
        graph = self._weighted(mode, self.edge_length)
        _, labels = connected_components(graph, directed=False)
        used = self.mode_nodes(mode)
        edges = np.flatnonzero(self.edge_modes[:, NETWORK_MODES.index(mode)])
        pieces = []
        for label in np.unique(labels[used]):
            nodes = np.flatnonzero((labels == label) & used)
            in_piece = edges[labels[self.edge_u[edges]] == label]
            pieces.append(Piece(nodes, tuple(sorted(set(self.edge_line[in_piece].tolist())))))
        return sorted(pieces, key=lambda p: -len(p.nodes))

    def length_m(self, mode: Mode) -> float:
        """Total length of the network open to a mode."""
        return float(self.edge_length[self.edge_modes[:, NETWORK_MODES.index(mode)]].sum())

    # -- weights --------------------------------------------------------------------------

    def edge_seconds(self, mode: Mode, densities: Mapping[str, float] | None = None) -> FloatArray:
        """Seconds to traverse each edge; walking slows with the crowd in the edge's area."""
        if mode != Mode.WALK or not densities:
            return self._free_seconds[mode]
        area_density = np.array([densities.get(a, 0.0) for a in self.area_ids] + [0.0])
        speed = weidmann_speed(area_density[self.edge_area], self.speeds.walk)
        return self.edge_length / speed

    def _csr_data(self, mode: Mode, edge_cost: FloatArray) -> FloatArray:
        refs = self._graphs[mode][2]
        return np.maximum(edge_cost[refs], _EPSILON_S)

    def _weighted(self, mode: Mode, edge_cost: FloatArray) -> csr_matrix:
        indptr, cols, refs = self._graphs[mode]
        n = self.node_count
        return csr_matrix((edge_cost[refs], cols, indptr), shape=(n, n))

    # -- snapping -------------------------------------------------------------------------

    def to_xy(self, lonlat: npt.ArrayLike) -> FloatArray:
        """Project (n, 2) lon/lat pairs to metres."""
        points = np.atleast_2d(np.asarray(lonlat, dtype=np.float64))
        x, y = self.projection.to_xy(points[:, 0], points[:, 1])
        return np.column_stack([x, y])

    def snap(self, lonlat: npt.ArrayLike, mode: Mode) -> Snaps:
        """Snap (n, 2) lon/lat locations onto the nearest edges of a mode's network."""
        return self.snap_xy(self.to_xy(lonlat), mode)

    def snap_xy(self, xy: FloatArray, mode: Mode) -> Snaps:
        """Snap (n, 2) projected locations onto the nearest edges of a mode's network."""
        indexed = self._trees.get(mode)
        if indexed is None:
            raise ValueError(f"the network has no {mode.value} lines")
        tree, tree_edges = indexed
        points = shapely.points(xy)
        found, dist = tree.query_nearest(points, return_distance=True, all_matches=False)
        edge = np.empty(len(xy), dtype=np.int64)
        distance = np.empty(len(xy))
        edge[found[0]] = tree_edges[found[1]]
        distance[found[0]] = dist
        a, b = self.node_xy[self.edge_u[edge]], self.node_xy[self.edge_v[edge]]
        ab = b - a
        denom = np.maximum((ab * ab).sum(axis=1), 1e-12)
        fraction = np.clip(((xy - a) * ab).sum(axis=1) / denom, 0.0, 1.0)
        return Snaps(mode, edge, fraction, distance, xy[:, 0].copy(), xy[:, 1].copy())

    # -- shortest paths -------------------------------------------------------------------

    def times_from(
        self,
        sources: Sequence[Snaps],
        *,
        densities: Mapping[str, float] | None = None,
        limit: float = np.inf,
    ) -> FloatArray:
        """Seconds from each source set to every node: an (len(sources), nodes) array.

        A source set is one or more snapped locations of the same mode that start together
        (a unit, or all the posts of a station); the walk off the network to the snapped
        point is included at free walking speed. Nodes not reached within ``limit`` are inf.
        """
        if not sources:
            return np.empty((0, self.node_count))
        mode = sources[0].mode
        if any(s.mode != mode for s in sources):
            raise ValueError("all source sets of one query must snap to the same mode")
        if len(sources) == 1 and len(sources[0]) == 1:
            return self._single_source(mode, densities).search(self, sources[0], limit)[None, :]
        cost = self.edge_seconds(mode, densities)
        indptr, cols, _ = self._graphs[mode]
        data = (
            self._free_data[mode]
            if cost is self._free_seconds[mode]
            else self._csr_data(mode, cost)
        )
        extra_cols, extra_data, counts = [], [], []
        for snaps in sources:
            w = cost[snaps.edge]
            access = snaps.distance_m / self.speeds.walk
            extra_cols += [self.edge_u[snaps.edge], self.edge_v[snaps.edge]]
            extra_data += [access + snaps.fraction * w, access + (1 - snaps.fraction) * w]
            counts.append(2 * len(snaps))
        n, s = self.node_count, len(sources)
        graph = csr_matrix(
            (
                np.concatenate([data, np.maximum(np.concatenate(extra_data), _EPSILON_S)]),
                np.concatenate([cols, *extra_cols]).astype(np.int32),
                np.concatenate([indptr, indptr[-1] + np.cumsum(counts)]).astype(np.int32),
            ),
            shape=(n + s, n + s),
        )
        times = dijkstra(graph, directed=True, indices=np.arange(n, n + s), limit=limit)
        return np.asarray(times[:, :n])

    def _single_source(
        self, mode: Mode, densities: Mapping[str, float] | None
    ) -> _SingleSourceGraph:
        """The reusable one-source graph for a mode under a crowd (cached, a few at a time)."""
        key = (mode, _density_key(mode, densities))
        graph = self._single_cache.get(key)
        if graph is None:
            if len(self._single_cache) >= 8:
                self._single_cache.clear()
            cost = self.edge_seconds(mode, densities)
            indptr, cols, _ = self._graphs[mode]
            graph = _SingleSourceGraph(indptr, cols, self._csr_data(mode, cost), cost)
            self._single_cache[key] = graph
        return graph

    def prepare_targets(self, targets: Snaps) -> PreparedTargets:
        """Free-flow costs of snapped targets, for repeated :meth:`times_at_prepared`."""
        w = self._free_seconds[targets.mode][targets.edge]
        order = np.argsort(targets.edge, kind="stable")
        edges, starts = np.unique(targets.edge[order], return_index=True)
        groups = np.split(order, starts[1:])
        return PreparedTargets(
            snaps=targets,
            u=self.edge_u[targets.edge],
            v=self.edge_v[targets.edge],
            to_u=targets.fraction * w,
            to_v=(1 - targets.fraction) * w,
            access=targets.distance_m / self.speeds.walk,
            on_edge=dict(zip(edges.tolist(), groups, strict=True)),
        )

    def times_at_prepared(
        self, node_times: FloatArray, targets: PreparedTargets, source: Snaps
    ) -> FloatArray:
        """:meth:`times_at` at free flow for one source location and prepared targets."""
        times: FloatArray = (
            np.minimum(node_times[targets.u] + targets.to_u, node_times[targets.v] + targets.to_v)
            + targets.access
        )
        same = targets.on_edge.get(int(source.edge[0]))
        if same is not None:
            snaps = targets.snaps
            w = self._free_seconds[snaps.mode][source.edge[0]]
            along = np.abs(snaps.fraction[same] - source.fraction[0]) * w
            direct = along + (snaps.distance_m[same] + source.distance_m[0]) / self.speeds.walk
            times[same] = np.minimum(times[same], direct)
        return times

    def times_at(
        self,
        node_times: FloatArray,
        targets: Snaps,
        densities: Mapping[str, float] | None = None,
        sources: Sequence[Snaps] | None = None,
    ) -> FloatArray:
        """Seconds to snapped targets, given per-node times from :meth:`times_from`.

        ``node_times`` is (sources, nodes); the result is (sources, targets). The target's own
        walk from the network to its location is included at free walking speed. Pass the
        ``sources`` the times came from so that a source and a target on the same edge are
        timed straight along it rather than out to a node and back.
        """
        cost = self.edge_seconds(targets.mode, densities)
        w = cost[targets.edge]
        via_u = node_times[:, self.edge_u[targets.edge]] + targets.fraction * w
        via_v = node_times[:, self.edge_v[targets.edge]] + (1 - targets.fraction) * w
        times = np.minimum(via_u, via_v) + targets.distance_m / self.speeds.walk
        for row, source in enumerate(sources or ()):
            s, t = np.nonzero(source.edge[:, None] == targets.edge[None, :])
            if not len(s):
                continue
            along = np.abs(source.fraction[s] - targets.fraction[t]) * w[t]
            direct = along + (source.distance_m[s] + targets.distance_m[t]) / self.speeds.walk
            np.minimum.at(times[row], t, direct)
        return times

    def travel_times(
        self,
        origins: npt.ArrayLike,
        destinations: npt.ArrayLike,
        mode: Mode,
        *,
        densities: Mapping[str, float] | None = None,
    ) -> FloatArray:
        """Seconds from each origin to each destination (lon/lat arrays), an (n, m) array.

        Drones fly straight at their cruise speed after their launch time; other modes follow
        their network, walking from and to it at free speed.
        """
        if mode == Mode.DRONE:
            a, b = self.to_xy(origins), self.to_xy(destinations)
            dist = np.hypot(*(a[:, None, :] - b[None, :, :]).transpose(2, 0, 1))
            return np.asarray(self.speeds.drone_launch_s + dist / self.speeds.drone, np.float64)
        start, end = self.snap(origins, mode), self.snap(destinations, mode)
        sources = [_take(start, i) for i in range(len(start))]
        node_times = self.times_from(sources, densities=densities)
        return self.times_at(node_times, end, densities, sources)


def _density_key(
    mode: Mode, densities: Mapping[str, float] | None
) -> tuple[tuple[str, float], ...]:
    if mode != Mode.WALK or not densities:
        return ()
    return tuple(sorted((area, float(d)) for area, d in densities.items() if d > 0))


class _SingleSourceGraph:
    """A mode's graph with one spare row for a virtual source, reused from query to query.

    Most queries start from one place (an incident). Building a fresh sparse matrix for each
    costs more than the search itself on a venue-sized graph, so the spare row's two entries
    are rewritten in place instead, under a lock since the matrix is shared.
    """

    def __init__(
        self, indptr: Int32Array, cols: Int32Array, data: FloatArray, cost: FloatArray
    ) -> None:
        n = len(indptr) - 1
        self.n = n
        self.cost = cost
        self.matrix = csr_matrix(
            (
                np.append(data, [1.0, 1.0]),
                np.append(cols, [0, 0]).astype(np.int32),
                np.append(indptr, indptr[-1] + 2).astype(np.int32),
            ),
            shape=(n + 1, n + 1),
        )
        self.lock = threading.Lock()

    def search(self, net: TravelNetwork, source: Snaps, limit: float) -> FloatArray:
        edge = int(source.edge[0])
        w = float(self.cost[edge])
        access = float(source.distance_m[0]) / net.speeds.walk
        f = float(source.fraction[0])
        u, v = int(net.edge_u[edge]), int(net.edge_v[edge])
        entries = sorted([(u, access + f * w), (v, access + (1 - f) * w)])
        with self.lock:
            self.matrix.indices[-2:] = [entries[0][0], entries[1][0]]
            self.matrix.data[-2:] = [max(entries[0][1], _EPSILON_S), max(entries[1][1], _EPSILON_S)]
            times = dijkstra(self.matrix, directed=True, indices=self.n, limit=limit)
        return np.asarray(times[: self.n], dtype=np.float64)


def _take(snaps: Snaps, index: int | IntArray) -> Snaps:
    idx = np.atleast_1d(np.asarray(index, dtype=np.int64))
    return Snaps(
        snaps.mode, snaps.edge[idx], snaps.fraction[idx], snaps.distance_m[idx],
        snaps.x[idx], snaps.y[idx],
    )  # fmt: skip


def _merge_close_vertices(xy: FloatArray, tolerance_m: float) -> IntArray:
    """Label each vertex with its node: vertices within the tolerance are one node."""
    tree = cKDTree(xy)
    pairs = tree.query_pairs(max(tolerance_m, 1e-6), output_type="ndarray")
    n = len(xy)
    links = csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(links, directed=False)
    return np.asarray(labels, dtype=np.int64)


class _EdgeBuilder:
    """Collects edges, cutting long segments and merging duplicates between the same nodes."""

    def __init__(self, node_xy: FloatArray, densify_m: float) -> None:
        self._xy: list[FloatArray] = [node_xy]
        self._next = len(node_xy)
        self.densify_m = densify_m
        self.u: list[int] = []
        self.v: list[int] = []
        self.modes: list[npt.NDArray[np.bool_]] = []
        self.line: list[int] = []
        self._seen: dict[tuple[int, int], int] = {}
        self._base = node_xy

    def add(self, a: int, b: int, modes: npt.NDArray[np.bool_], line: int) -> None:
        if a == b:
            return
        pa, pb = self._base[a], self._base[b]
        pieces = max(1, int(np.ceil(np.hypot(*(pb - pa)) / self.densify_m - 1e-9)))
        if pieces == 1:
            key = (min(a, b), max(a, b))
            if key in self._seen:
                # Two lines over the same stretch: one edge open to the union of their modes.
                index = self._seen[key]
                self.modes[index] = self.modes[index] | modes
                return
            self._seen[key] = len(self.u)
            self._append(a, b, modes, line)
            return
        steps = np.linspace(0, 1, pieces + 1)[1:-1, None]
        inner = pa + steps * (pb - pa)
        ids = list(range(self._next, self._next + len(inner)))
        self._xy.append(inner)
        self._next += len(inner)
        chain = [a, *ids, b]
        for p, q in itertools.pairwise(chain):
            self._append(p, q, modes, line)

    def _append(self, a: int, b: int, modes: npt.NDArray[np.bool_], line: int) -> None:
        self.u.append(a)
        self.v.append(b)
        self.modes.append(modes.copy())
        self.line.append(line)

    def node_xy(self) -> FloatArray:
        return np.concatenate(self._xy)
