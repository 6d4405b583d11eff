"""Benchmark: recommending units for incidents, against the Resgrid method.

On the West Lake scenario with its model deployment (300 police units and 1,700 guards
placed by post), 1,000 incidents of mixed types at random points of random hotspots. For each
incident LakeGuard ranks every candidate by routed ETA and fills the response plan. The
baseline, in the same run, fills the same plan slot by slot the way Resgrid does: the five
nearest eligible units by straight-line distance, re-ranked by routed ETA (the same travel
times), the fastest of those five sent. For every slot we compare the ETA of the two picks.

    python -m bench.recommend [--incidents 1000] [--seed 1]

Also times the API round trip (create an incident by place name, then ask for its
recommendation) on the embedded SQLite database. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from rich.console import Console
from rich.table import Table

from lakeguard.config import bundled_scenario
from lakeguard.forces.deployment import westlake_deployment
from lakeguard.incidents.engine import Candidate, CandidatePool, recommend, unit_etas
from lakeguard.venue.checks import build_network
from lakeguard.venue.loader import Scenario, load_scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.plans import ResponsePlan
from lakeguard.venue.schema import AreaKind

RESGRID_SHORTLIST = 5


def random_hotspot_points(
    scenario: Scenario, count: int, rng: np.random.Generator
) -> list[tuple[float, float]]:
    hotspots = [a for a in scenario.areas if a.kind == AreaKind.HOTSPOT]
    points = []
    for area in rng.choice(len(hotspots), size=count):
        polygon = hotspots[area].shape
        minx, miny, maxx, maxy = polygon.bounds
        while True:
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(polygon, lon, lat):
                points.append((float(lon), float(lat)))
                break
    return points


def resgrid_picks(
    network: TravelNetwork,
    pool: CandidatePool,
    plan: ResponsePlan,
    lonlat: tuple[float, float],
    etas: np.ndarray,
    order: list[int],
) -> dict[int, list[float]]:
    """ETAs of the units the Resgrid method sends, per requirement, filled in ``order``."""
    placed = pool.placed
    target = network.to_xy([lonlat])[0]
    straight = np.hypot(*(pool.fleet.xy - target).T)
    taken: set[int] = set()
    picks: dict[int, list[float]] = {}
    for r in order:
        req = plan.requires[r]
        fits = [
            i
            for i, c in enumerate(placed)
            if i not in taken and (req.capability is None or req.capability in c.capabilities)
        ]
        chosen: list[float] = []
        for _ in range(req.count):
            if not fits:
                break
            shortlist = sorted(fits, key=lambda i: straight[i])[:RESGRID_SHORTLIST]
            best = min(shortlist, key=lambda i: etas[i])
            taken.add(best)
            fits.remove(best)
            chosen.append(float(etas[best]))
        picks[r] = chosen
    return picks


def api_round_trip(scenario_path: Path, samples: int) -> dict[str, float]:
    """Create an incident by place name and fetch its recommendation, over HTTP, on SQLite."""
    from fastapi.testclient import TestClient

    from lakeguard.api.app import create_app
    from lakeguard.auth import service as users
    from lakeguard.auth import tokens
    from lakeguard.auth.roles import Role
    from lakeguard.config import Settings
    from lakeguard.forces.deployment import MODEL_COMPANIES
    from lakeguard.forces.roster import replace_seeded_units
    from lakeguard.store.migrate import upgrade
    from lakeguard.store.session import make_engine, make_sessionmaker, transaction
    from lakeguard.venue.service import store_scenario

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        scenario = load_scenario(scenario_path)
        with transaction(make_sessionmaker(engine)) as session:
            store_scenario(session, scenario=scenario, now=datetime.now(UTC))
            specs = westlake_deployment(scenario, np.random.default_rng(1))
            replace_seeded_units(
                session,
                venue=scenario,
                units=specs,
                companies=MODEL_COMPANIES,
                actor="bench",
                now=datetime.now(UTC),
            )
            user = users.create(
                session,
                username="bench-dispatcher",
                roles=[Role.DISPATCHER],
                password=None,
                actor="bench",
                now=datetime.now(UTC),
            )
            _, secret = tokens.issue(
                session,
                user=user,
                scopes=["api"],
                unit_id=None,
                sensor_id=None,
                actor="bench",
                now=datetime.now(UTC),
            )
        headers = {"Authorization": f"Bearer {secret}"}
        places = ["断桥", "Bai Causeway", "灵隐寺", "Leifeng Pagoda", "湖滨", "Su Causeway"]
        timings = []
        with TestClient(create_app(Settings(database_url=url))) as client:
            for i in range(samples):
                t0 = time.perf_counter()
                created = client.post(
                    "/api/v1/incidents",
                    headers=headers,
                    json={
                        "type": "lost_child",
                        "source": "phone",
                        "place": places[i % len(places)],
                    },
                )
                incident = created.json()["id"]
                rec = client.get(f"/api/v1/incidents/{incident}/recommendation", headers=headers)
                timings.append(time.perf_counter() - t0)
                assert rec.status_code == 200, rec.text
        engine.dispose()
    ms = np.array(timings) * 1000
    return {
        "api_p50_ms": round(float(np.percentile(ms, 50)), 2),
        "api_p99_ms": round(float(np.percentile(ms, 99)), 2),
        "api_samples": samples,
    }


def run(scenario_path: Path, incidents: int, seed: int, api_samples: int) -> dict[str, Any]:
    console = Console(stderr=True)
    scenario = load_scenario(scenario_path)
    network = build_network(scenario.network, scenario.config, scenario.areas)
    rng = np.random.default_rng(seed)
    specs = westlake_deployment(scenario, rng, network=network)
    candidates = [
        Candidate(s.id, s.mode, frozenset(s.capabilities), True, s.lon, s.lat, "position", 10.0)
        for s in specs
    ]
    assert scenario.plans is not None
    plans = list(scenario.plans.plans)
    points = random_hotspot_points(scenario, incidents, rng)
    types = rng.choice(len(plans), size=incidents)

    t0 = time.perf_counter()
    pool = CandidatePool.place(network, candidates)
    place_ms = (time.perf_counter() - t0) * 1000
    ours_s, gains, slots, worse = [], [], 0, 0
    for n, (lonlat, t) in enumerate(zip(points, types, strict=True)):
        plan = plans[int(t)]
        start = time.perf_counter()
        rec = recommend(network, pool, plan, lonlat)
        ours_s.append(time.perf_counter() - start)
        etas = unit_etas(network, pool.fleet, lonlat)
        ours_by_req: dict[int, list[float]] = {}
        for pick in rec.picks:
            ours_by_req.setdefault(pick.requirement, []).append(pick.eta_s)
        theirs = resgrid_picks(network, pool, plan, lonlat, etas, _fill_order(plan, pool))
        for r, mine in ours_by_req.items():
            for a, b in zip(sorted(mine), sorted(theirs.get(r, [])), strict=False):
                slots += 1
                if b > a + 1.0:
                    worse += 1
                    gains.append(b - a)
        if (n + 1) % 250 == 0:
            console.print(f"{n + 1} incidents")
    ms = np.array(ours_s) * 1000
    result: dict[str, Any] = {
        "benchmark": "recommend",
        "scenario": scenario.id,
        "units": len(candidates),
        "police": sum(1 for s in specs if s.company is None),
        "guards": sum(1 for s in specs if s.company is not None),
        "incidents": incidents,
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p90_ms": round(float(np.percentile(ms, 90)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "place_units_ms": round(place_ms, 2),
        "baseline": "resgrid: 5 nearest by straight line, re-ranked by routed ETA",
        "slots_compared": slots,
        "better_pick_share": round(worse / slots, 4) if slots else 0.0,
        "eta_gain_s_p50": round(float(np.percentile(gains, 50)), 1) if gains else 0.0,
        "eta_gain_s_p90": round(float(np.percentile(gains, 90)), 1) if gains else 0.0,
    }
    if api_samples:
        result.update(api_round_trip(scenario_path, api_samples))
    return result


def _fill_order(plan: ResponsePlan, pool: CandidatePool) -> list[int]:
    """The slot order LakeGuard fills in (scarcest first), so both fill the same slots."""
    placed = pool.placed

    def eligible(r: int) -> int:
        cap = plan.requires[r].capability
        return sum(1 for c in placed if cap is None or cap in c.capabilities)

    return sorted(range(len(plan.requires)), key=lambda r: (eligible(r), r))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=bundled_scenario())
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--api-samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(args.scenario, args.incidents, args.seed, args.api_samples)
    table = Table(
        title=f"Recommendation for {result['incidents']} incidents, {result['units']} units"
    )
    table.add_column("")
    table.add_column("value", justify="right")
    for key in (
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "place_units_ms",
        "slots_compared",
        "better_pick_share",
        "eta_gain_s_p50",
        "eta_gain_s_p90",
        "api_p50_ms",
        "api_p99_ms",
    ):
        if key in result:
            table.add_row(key, str(result[key]))
    Console().print(table)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
