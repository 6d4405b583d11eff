"""A venue at a glance: the figures `lakeguard venue show` and `GET /api/v1/venue` report."""

from __future__ import annotations

from typing import Any

from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import NETWORK_MODES, AreaKind, Domain


def venue_summary(scenario: Scenario, network: TravelNetwork) -> dict[str, Any]:
    """Counts and totals of a scenario, with the size of its travel network."""
    hotspots = [a for a in scenario.areas if a.kind == AreaKind.HOTSPOT]
    domains = {a.domain for a in scenario.areas} | {p.domain for p in scenario.posts}
    return {
        "id": scenario.id,
        "name": scenario.config.name.model_dump(),
        "timezone": scenario.config.timezone,
        "stations": len(scenario.stations),
        "points": sum(1 for p in scenario.posts if p.kind == "point"),
        "segments": sum(1 for p in scenario.posts if p.kind == "segment"),
        "domains": [d.value for d in Domain if d in domains],
        "areas": len(scenario.areas),
        "hotspots": len(hotspots),
        "sensors": len(scenario.sensors),
        "network_nodes": network.node_count,
        "network_edges": network.edge_count,
        "network_km": {m.value: round(network.length_m(m) / 1000, 2) for m in NETWORK_MODES},
        "capacity_total": sum(a.capacity or 0 for a in scenario.areas),
        "hotspot_capacity_total": sum(a.capacity or 0 for a in hotspots),
    }
