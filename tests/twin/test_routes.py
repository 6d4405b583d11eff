from collections import Counter, defaultdict

import numpy as np

from lakeguard.twin.config import load_crowd_twin, twin_file
from lakeguard.twin.itinerary import resolve_places
from lakeguard.twin.routes import build_legs, line_sensors, visitor_edges
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import OUTSIDE


def test_every_counting_line_names_the_areas_the_twin_finds_on_its_two_sides(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    config = load_crowd_twin(twin_file(westlake.source)).visitors
    usable = visitor_edges(westlake_network)
    lines = line_sensors(westlake, westlake_network, usable)
    places = resolve_places(config, westlake, westlake_network, usable, "twin")
    legs = build_legs(
        westlake_network, places.node, places.entrances, lines, config.itinerary.boat_cost_factor
    )
    names = [a.id for a in westlake.areas] + [OUTSIDE]
    boundary = np.repeat(np.arange(len(legs.cross_start) - 1), np.diff(legs.cross_start))
    sides: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for cell, line, inward in zip(boundary, legs.cross_line, legs.cross_inward, strict=True):
        before, after = names[legs.cell_area[cell - 1]], names[legs.cell_area[cell]]
        sides[lines.ids[line]][(after, before) if inward else (before, after)] += 1
    declared = {s.id: (s.area, s.beyond) for s in westlake.sensors if s.counts_line}
    found = {line: counts.most_common(1)[0][0] for line, counts in sides.items()}
    assert len(found) >= 20
    assert {line: declared[line] for line in found} == found
