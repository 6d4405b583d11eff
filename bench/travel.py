"""Benchmark: the k fastest walking units to an incident, against networkx Dijkstra.

On the West Lake scenario: 2,000 units placed at random on the walk network (seeded) and
1,000 random incident locations near it; for each incident, the 5 units that reach it
soonest. Both sides answer the same exact question from the same snapped positions: ours
runs ``scipy.sparse.csgraph.dijkstra`` from a virtual source at the incident; the baseline
runs ``networkx.single_source_dijkstra_path_length`` from the same virtual source on a graph
with the same weights, searching the whole graph. Ours stops its search at a time bound
(falling back to a full search when the bound finds too few units); so that the share of the
speed-up owed to compiled code and the share owed to the bound can be told apart, networkx is
also timed with the same bound and fallback. Every answer is compared; a mismatch fails the run.

    python -m bench.travel [--scenario PATH] [--units 2000] [--queries 1000] [--seed 1]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from rich.console import Console
from rich.table import Table

from lakeguard.config import bundled_scenario
from lakeguard.venue.checks import build_network
from lakeguard.venue.loader import load_scenario
from lakeguard.venue.network import Snaps, TravelNetwork
from lakeguard.venue.reach import Fleet, RankedUnit, fastest_units, search_bound
from lakeguard.venue.schema import NETWORK_MODES, Mode

K = 5


def random_points_on_walk(
    net: TravelNetwork, count: int, rng: np.random.Generator, off_path_m: float = 0.0
) -> np.ndarray:
    """Lon/lat points uniformly along the walk network, optionally pushed off it."""
    walk = np.flatnonzero(net.edge_modes[:, NETWORK_MODES.index(Mode.WALK)])
    length = net.edge_length[walk]
    edges = rng.choice(walk, size=count, p=length / length.sum())
    t = rng.random(count)[:, None]
    xy = net.node_xy[net.edge_u[edges]] * (1 - t) + net.node_xy[net.edge_v[edges]] * t
    if off_path_m:
        angle = rng.uniform(0, 2 * np.pi, count)
        radius = rng.uniform(0, off_path_m, count)
        xy = xy + np.column_stack([np.cos(angle), np.sin(angle)]) * radius[:, None]
    lon, lat = net.projection.to_lonlat(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


class NetworkxBaseline:
    """The same query on a networkx graph: Dijkstra from a virtual node at the incident."""

    def __init__(self, net: TravelNetwork, fleet: Fleet) -> None:
        self.net = net
        self.cost = net.edge_seconds(Mode.WALK)
        walk = np.flatnonzero(net.edge_modes[:, NETWORK_MODES.index(Mode.WALK)])
        self.graph = nx.Graph()
        self.graph.add_weighted_edges_from(
            zip(
                net.edge_u[walk].tolist(),
                net.edge_v[walk].tolist(),
                self.cost[walk].tolist(),
                strict=True,
            )
        )
        self.members, self.units = fleet.snaps[Mode.WALK]
        self.ids = fleet.ids
        self.unit_xy = fleet.xy[self.members]

    def fastest(
        self, lonlat: tuple[float, float], k: int, *, bounded: bool = False
    ) -> list[tuple[str, float]]:
        """Top k by full Dijkstra, or (``bounded``) with LakeGuard's cutoff and fallback."""
        if not bounded:
            return self._fastest(lonlat, k, np.inf)
        target_xy = self.net.to_xy([lonlat])[0]
        straight = np.hypot(*(self.unit_xy - target_xy).T)
        access = float(self.net.snap([lonlat], Mode.WALK).distance_m[0])
        bound = search_bound(self.net, Mode.WALK, straight, access, k)
        found = self._fastest(lonlat, k, bound)
        return (
            found if len(found) >= min(k, len(self.members)) else self._fastest(lonlat, k, np.inf)
        )

    def _fastest(
        self, lonlat: tuple[float, float], k: int, bound: float
    ) -> list[tuple[str, float]]:
        net, units = self.net, self.units
        target: Snaps = net.snap([lonlat], Mode.WALK)
        e, f, access = int(target.edge[0]), float(target.fraction[0]), float(target.distance_m[0])
        walk_speed = net.speeds.walk
        w = self.cost[e]
        source = "incident"
        self.graph.add_edge(source, int(net.edge_u[e]), weight=access / walk_speed + f * w)
        self.graph.add_edge(source, int(net.edge_v[e]), weight=access / walk_speed + (1 - f) * w)
        try:
            cutoff = None if np.isinf(bound) else bound
            lengths = nx.single_source_dijkstra_path_length(self.graph, source, cutoff=cutoff)
        finally:
            self.graph.remove_node(source)
        node_times = np.full(net.node_count, np.inf)
        nodes = np.fromiter((n for n in lengths if n != source), dtype=np.int64)
        node_times[nodes] = [lengths[n] for n in nodes.tolist()]
        uw = self.cost[units.edge]
        via_u = node_times[net.edge_u[units.edge]] + units.fraction * uw
        via_v = node_times[net.edge_v[units.edge]] + (1 - units.fraction) * uw
        times = np.minimum(via_u, via_v) + units.distance_m / walk_speed
        same = units.edge == e
        along = (
            np.abs(units.fraction[same] - f) * w + (units.distance_m[same] + access) / walk_speed
        )
        times[same] = np.minimum(times[same], along)
        times[times > bound] = np.inf
        best = np.argsort(times, kind="stable")[:k]
        return [(self.ids[self.members[i]], float(times[i])) for i in best if np.isfinite(times[i])]


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.array(samples) * 1000, q))


def same_answer(ours: list[RankedUnit], theirs: list[tuple[str, float]]) -> bool:
    """Equal times rank for rank (ids may differ only where two units tie)."""
    if len(ours) != len(theirs):
        return False
    return all(
        abs(a.seconds - b[1]) <= 1e-6 * max(1.0, b[1]) for a, b in zip(ours, theirs, strict=True)
    )


def run(
    scenario_path: Path, units: int, queries: int, baseline_queries: int, seed: int
) -> dict[str, Any]:
    console = Console(stderr=True)
    scenario = load_scenario(scenario_path)
    started = time.perf_counter()
    net = build_network(scenario.network, scenario.config, scenario.areas)
    build_s = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    unit_lonlat = random_points_on_walk(net, units, rng)
    fleet = Fleet.place(net, [f"u{i}" for i in range(units)], unit_lonlat, [Mode.WALK] * units)
    incidents = random_points_on_walk(net, queries, rng, off_path_m=30.0)
    baseline = NetworkxBaseline(net, fleet)

    for lonlat in incidents[:20]:  # warm caches and code paths on both sides
        fastest_units(net, fleet, tuple(lonlat), K)
        baseline.fastest(tuple(lonlat), K)

    # Interleaved, query by query, so that both sides see the same machine: on a shared
    # two-core machine the load drifts, and timing one side after the other would fold the
    # drift into the ratio.
    ours_s, base_s, bounded_s, mismatches = [], [], [], 0
    for i, lonlat in enumerate(incidents):
        t0 = time.perf_counter()
        ours = fastest_units(net, fleet, tuple(lonlat), K)
        ours_s.append(time.perf_counter() - t0)
        if i >= baseline_queries:
            continue
        t0 = time.perf_counter()
        theirs = baseline.fastest(tuple(lonlat), K)
        t1 = time.perf_counter()
        theirs_bounded = baseline.fastest(tuple(lonlat), K, bounded=True)
        t2 = time.perf_counter()
        base_s.append(t1 - t0)
        bounded_s.append(t2 - t1)
        mismatches += not same_answer(ours, theirs)
        mismatches += not same_answer(ours, theirs_bounded)
        if (i + 1) % 100 == 0:
            console.print(f"{i + 1} queries timed on both sides")

    p50 = percentile_ms(ours_s, 50)
    base_p50 = percentile_ms(base_s, 50)
    return {
        "benchmark": "travel",
        "scenario": scenario.id,
        "nodes": net.node_count,
        "edges": net.edge_count,
        "walk_km": round(net.length_m(Mode.WALK) / 1000, 1),
        "units": units,
        "queries": queries,
        "k": K,
        "build_s": round(build_s, 3),
        "p50_ms": round(p50, 3),
        "p90_ms": round(percentile_ms(ours_s, 90), 3),
        "p99_ms": round(percentile_ms(ours_s, 99), 3),
        "max_ms": round(max(ours_s) * 1000, 3),
        "baseline": "networkx.single_source_dijkstra_path_length",
        "baseline_queries": len(base_s),
        "baseline_p50_ms": round(base_p50, 3),
        "baseline_p99_ms": round(percentile_ms(base_s, 99), 3),
        "speedup": round(base_p50 / p50, 1),
        "baseline_bounded_p50_ms": round(percentile_ms(bounded_s, 50), 3),
        "speedup_vs_bounded": round(percentile_ms(bounded_s, 50) / p50, 1),
        "mismatches": mismatches,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=bundled_scenario())
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--baseline-queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(
        args.scenario, args.units, args.queries, min(args.baseline_queries, args.queries), args.seed
    )

    table = Table(title=f"{K} fastest of {args.units} walking units, {result['nodes']:,} nodes")
    for column in ("", "p50 ms", "p90 ms", "p99 ms", "queries"):
        table.add_column(column, justify="right")
    table.add_row("LakeGuard (scipy csgraph)", f"{result['p50_ms']:.2f}", f"{result['p90_ms']:.2f}",
                  f"{result['p99_ms']:.2f}", str(result["queries"]))  # fmt: skip
    table.add_row("networkx Dijkstra (baseline)", f"{result['baseline_p50_ms']:.2f}", "",
                  f"{result['baseline_p99_ms']:.2f}", str(result["baseline_queries"]))  # fmt: skip
    table.add_row("networkx, same time bound", f"{result['baseline_bounded_p50_ms']:.2f}", "",
                  "", str(result["baseline_queries"]))  # fmt: skip
    console = Console()
    console.print(table)
    console.print(f"speedup (baseline p50 / ours p50): {result['speedup']}×; "
                  f"answers that differ: {result['mismatches']}")  # fmt: skip
    print(json.dumps(result))
    if result["mismatches"]:
        raise SystemExit("the two implementations disagree; the timings are not comparable")


if __name__ == "__main__":
    main()
