"""Recommendations on West Lake, hand-checked: who goes, why, and what is missing."""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from lakeguard.incidents.engine import (
    HARD_STALE_LIMIT_S,
    Candidate,
    CandidatePool,
    Reason,
    Shortfall,
    recommend,
)
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.plans import ResponsePlan
from lakeguard.venue.schema import Domain, Mode

OFF_BAI_CAUSEWAY = (120.1489, 30.2573)  # in the lake, a few tens of metres south of the causeway
BAI_CAUSEWAY = (120.1490, 30.2580)
HUBIN_SHORE = (120.1605, 30.2560)
FEILAI_PEAK = (120.1030, 30.2400)
LINGYIN = (120.1010, 30.2409)


def plan(scenario: Scenario, code: str) -> ResponsePlan:
    assert scenario.plans is not None
    return scenario.plans.by_code()[code]


def unit(
    uid: str,
    where: tuple[float, float],
    mode: Mode = Mode.WALK,
    *caps: str,
    available: bool = True,
    source: str = "position",
    age: float | None = 5.0,
) -> Candidate:
    return Candidate(uid, mode, frozenset(caps), available, where[0], where[1], source, age)


def boat_near(network: TravelNetwork, lonlat: tuple[float, float]) -> tuple[float, float]:
    """The point on the nearest boat lane: where a boat patrolling there would be."""
    snap = network.snap([lonlat], Mode.BOAT)
    a, b = network.edge_u[snap.edge[0]], network.edge_v[snap.edge[0]]
    xy = network.node_xy[a] * (1 - snap.fraction[0]) + network.node_xy[b] * snap.fraction[0]
    lon, lat = network.projection.to_lonlat(xy[0], xy[1])
    return float(lon), float(lat)


def test_the_spot_off_the_causeway_is_water(westlake: Scenario) -> None:
    water = [a for a in westlake.areas if a.domain == Domain.WATER]
    assert any(a.shape.covers(Point(*OFF_BAI_CAUSEWAY)) for a in water)


def test_a_person_in_the_water_off_the_bai_causeway_gets_a_boat(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    candidates = [
        unit("officer-causeway", BAI_CAUSEWAY, Mode.WALK, "first_aid"),
        unit("guard-causeway", BAI_CAUSEWAY, Mode.WALK),
        unit(
            "boat-near",
            boat_near(westlake_network, (120.1480, 30.2560)),
            Mode.BOAT,
            "water_rescue",
            "first_aid",
        ),
        unit(
            "boat-far",
            boat_near(westlake_network, (120.1450, 30.2380)),
            Mode.BOAT,
            "water_rescue",
            "first_aid",
        ),
    ]
    pool = CandidatePool.place(westlake_network, candidates)
    rec = recommend(westlake_network, pool, plan(westlake, "person_in_water"), OFF_BAI_CAUSEWAY)
    picked = {p.unit_id: p for p in rec.picks}
    assert rec.complete
    assert picked["boat-near"].capability == "water_rescue"
    assert "boat-far" not in picked
    assert picked["officer-causeway"].capability == "first_aid"
    assert picked["boat-near"].eta_s < 240  # the plan's response target
    assert all(Reason.FASTEST_ETA in p.reasons for p in rec.picks)


def test_a_hill_fire_on_feilai_peak_gets_the_mountain_team_and_a_drone(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    candidates = [
        unit("mtn-1", LINGYIN, Mode.WALK, "mountain", "fire", "first_aid"),
        unit("mtn-2", LINGYIN, Mode.WALK, "mountain", "fire", "first_aid"),
        unit("mtn-far", (120.1480, 30.2640), Mode.WALK, "mountain", "fire"),  # on Baoshi hill
        unit("officer-lingyin", LINGYIN, Mode.WALK, "first_aid"),
        unit("drone-lingyin", (120.1020, 30.2420), Mode.DRONE, "drone"),
        unit("drone-hubin", HUBIN_SHORE, Mode.DRONE, "drone"),
    ]
    pool = CandidatePool.place(westlake_network, candidates)
    rec = recommend(westlake_network, pool, plan(westlake, "hill_fire"), FEILAI_PEAK)
    assert rec.complete
    assert {p.unit_id for p in rec.picks} == {"mtn-1", "mtn-2", "drone-lingyin"}
    drone = next(p for p in rec.picks if p.unit_id == "drone-lingyin")
    assert Reason.DRONE_STRAIGHT_LINE in drone.reasons
    assert Reason.ONLY_CAPABLE not in drone.reasons  # two drones could go


def test_a_unit_placed_by_its_home_post_says_so(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    candidates = [
        unit("stale", BAI_CAUSEWAY, Mode.WALK, source="home_post", age=900.0),
        unit("fresh", HUBIN_SHORE, Mode.WALK),
    ]
    pool = CandidatePool.place(westlake_network, candidates)
    rec = recommend(westlake_network, pool, plan(westlake, "lost_property"), BAI_CAUSEWAY)
    assert [p.unit_id for p in rec.picks] == ["stale"]
    assert Reason.STALE_POSITION_USED in rec.picks[0].reasons


@pytest.mark.parametrize(
    ("boats", "code"),
    [
        ([], Shortfall.NO_CAPABLE_UNIT),
        ([{"available": False}], Shortfall.ALL_BUSY),
        ([{"age": HARD_STALE_LIMIT_S + 60}], Shortfall.POSITIONS_STALE),
    ],
)
def test_shortfalls_say_why(
    westlake: Scenario,
    westlake_network: TravelNetwork,
    boats: list[dict[str, object]],
    code: Shortfall,
) -> None:
    candidates = [unit("officer", BAI_CAUSEWAY, Mode.WALK, "first_aid")]
    where = boat_near(westlake_network, (120.1480, 30.2560))
    candidates += [
        unit(f"boat-{i}", where, Mode.BOAT, "water_rescue", **kw) for i, kw in enumerate(boats)
    ]  # type: ignore[arg-type]
    pool = CandidatePool.place(westlake_network, candidates)
    rec = recommend(westlake_network, pool, plan(westlake, "person_in_water"), OFF_BAI_CAUSEWAY)
    assert not rec.complete
    assert [(g.capability, g.missing, g.code) for g in rec.gaps] == [("water_rescue", 1, code)]


def test_a_crowd_on_the_way_is_a_reason(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    candidates = [unit("walker", (120.1470, 30.2568), Mode.WALK)]
    pool = CandidatePool.place(westlake_network, candidates)
    calm = recommend(westlake_network, pool, plan(westlake, "lost_property"), (120.1515, 30.2596))
    crowded = recommend(
        westlake_network,
        pool,
        plan(westlake, "lost_property"),
        (120.1515, 30.2596),
        densities={"bai-causeway": 3.0, "broken-bridge": 3.0},
    )
    assert crowded.picks[0].eta_s > calm.picks[0].eta_s * 1.5
    assert Reason.CROWD_SLOWED in crowded.picks[0].reasons
    assert Reason.CROWD_SLOWED not in calm.picks[0].reasons


def test_a_second_look_asks_only_for_what_is_still_missing(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    boat = boat_near(westlake_network, (120.1480, 30.2560))
    candidates = [
        unit("officer-causeway", BAI_CAUSEWAY, Mode.WALK, "first_aid"),
        unit("boat-sent", boat, Mode.BOAT, "water_rescue", "first_aid", available=False),
        unit("boat-spare", boat, Mode.BOAT, "water_rescue", "first_aid"),
    ]
    pool = CandidatePool.place(westlake_network, candidates)
    water = plan(westlake, "person_in_water")
    first = recommend(westlake_network, pool, water, OFF_BAI_CAUSEWAY)
    again = recommend(westlake_network, pool, water, OFF_BAI_CAUSEWAY, sent=["boat-sent"])
    assert "boat-spare" in {p.unit_id for p in first.picks}
    # The boat already sent fills the water-rescue slot: no second boat is asked for.
    assert [p.unit_id for p in again.picks] == ["officer-causeway"] and again.complete


def test_a_unit_beyond_the_travel_target_comes_with_faster_alternatives(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    water = plan(westlake, "person_in_water")
    far_boat = boat_near(westlake_network, (120.1450, 30.2380))
    candidates = [
        unit("boat-far", far_boat, Mode.BOAT, "water_rescue", "first_aid"),
        unit("guard-causeway", BAI_CAUSEWAY, Mode.WALK),
        unit("guard-hubin", HUBIN_SHORE, Mode.WALK),
    ]
    pool = CandidatePool.place(westlake_network, candidates)
    rec = recommend(westlake_network, pool, water, OFF_BAI_CAUSEWAY)
    boat = next(p for p in rec.picks if p.unit_id == "boat-far")
    assert boat.eta_s > water.targets.travel_s and Reason.BEYOND_TARGET in boat.reasons
    assert [a.unit_id for a in rec.alternatives][:1] == ["guard-causeway"]
    assert all(a.eta_s <= water.targets.travel_s for a in rec.alternatives)
