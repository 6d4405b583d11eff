"""The visitor model on the West Lake scenario: small days, invariants that could break."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from lakeguard.twin.config import TwinConfigError, load_crowd_twin, twin_file
from lakeguard.twin.frame import CrowdFrame
from lakeguard.twin.visitors import VisitorModel
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.speed import weidmann_speed

VISITORS = 4000
STEP_S = 120.0


@pytest.fixture(scope="module")
def day(westlake: Scenario, westlake_network: TravelNetwork) -> list[CrowdFrame]:
    model = VisitorModel(westlake, westlake_network, visitors=VISITORS, seed=11)
    return [model.step(STEP_S) for _ in range(int(86_400 / STEP_S))]


def test_every_arrival_leaves_the_same_day(day: list[CrowdFrame]) -> None:
    assert sum(f.arrived for f in day) == VISITORS
    assert sum(f.departed for f in day) == VISITORS
    assert day[-1].in_venue == 0
    assert max(f.in_venue for f in day) > VISITORS / 8


def test_nobody_is_counted_twice(day: list[CrowdFrame]) -> None:
    inside = 0
    for frame in day:
        inside += frame.arrived - frame.departed
        assert frame.in_venue == inside
        assert int(frame.occupancy.sum()) + frame.outside == frame.in_venue
        assert (frame.occupancy >= 0).all()
        assert frame.outside >= 0


def test_exposure_is_visitor_seconds(day: list[CrowdFrame]) -> None:
    total = sum(float(f.exposure_s.sum()) for f in day)
    occupied = sum(float(f.occupancy.sum()) * f.dt_s for f in day)
    assert total == pytest.approx(occupied, rel=0.01)
    assert all((f.exposure_s >= 0).all() for f in day)


def test_closed_areas_change_only_through_their_counting_line(day: list[CrowdFrame]) -> None:
    # The Three Pools island is reached only over its pier, Yue Fei Temple only by its gate:
    # whatever the line counts in and out must be exactly who is there, at every step.
    for area, gate in (("three-pools", "gate-three-pools-pier"), ("yue-temple", "gate-yue-temple")):
        index = day[0].area_ids.index(area)
        net, moved = 0, 0
        for frame in day:
            net += frame.gate_in[gate] - frame.gate_out[gate]
            moved += frame.gate_in[gate] + frame.gate_out[gate]
            assert frame.occupancy[index] == net, (area, frame.t_s)
        assert moved > 0, f"nobody went to {area}: the check proved nothing"


def test_same_seed_same_day(westlake: Scenario, westlake_network: TravelNetwork) -> None:
    def run(seed: int) -> list[tuple[object, ...]]:
        model = VisitorModel(westlake, westlake_network, visitors=1500, seed=seed)
        frames = [model.step(600.0) for _ in range(80)]
        return [(f.occupancy.tolist(), f.gate_in, f.gate_out, f.arrived) for f in frames]

    first = run(5)
    assert run(5) == first
    assert run(6) != first


def test_a_crowded_area_slows_its_walkers(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    model = VisitorModel(westlake, westlake_network, visitors=20_000, seed=2)
    for _ in range(60):
        model.step(600.0)  # to 10:00, when many are walking about Hubin
    crowded = copy.deepcopy(model)
    hubin = model.area_ids.index("hubin-lakeside")
    # Two persons per m² over Hubin (but below the density at which walkers stop entering).
    crowded.occupancy = model.occupancy.copy()
    crowded.occupancy[hubin] = int(2.0 * westlake.areas[hubin].usable_m2)
    vid, leg, start = model.walkers()
    in_hubin = model.area_at(leg, start) == hubin
    model.step(30.0)
    crowded.step(30.0)
    moved = _moved(model, vid, start)
    moved_crowded = _moved(crowded, vid, start)
    both = ~np.isnan(moved) & ~np.isnan(moved_crowded) & (moved > 0)
    ratio = moved_crowded[both] / moved[both]
    here = in_hubin[both]
    assert here.sum() > 100 and (~here).sum() > 100
    free = weidmann_speed(model.occupancy[hubin] / westlake.areas[hubin].usable_m2, 1.0)[()]
    expected = weidmann_speed(2.0, 1.0)[()] / free
    # Walkers that stay in Hubin for the step slow by Weidmann's ratio; others do not slow.
    assert np.median(ratio[here]) == pytest.approx(expected, rel=0.05)
    assert np.median(ratio[~here]) == pytest.approx(1.0, abs=1e-9)


def _moved(model: VisitorModel, vid: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Metres each visitor in ``vid`` walked, NaN for those no longer walking."""
    now_vid, _, now_s = model.walkers()
    position = dict(zip(now_vid.tolist(), now_s.tolist(), strict=True))
    return np.array(
        [
            position[v] - s if v in position else np.nan
            for v, s in zip(vid.tolist(), start, strict=True)
        ]
    )


def test_config_errors_name_the_file_and_field(tmp_path: Path, westlake: Scenario) -> None:
    text = twin_file(westlake.source).read_text(encoding="utf-8")
    broken = tmp_path / "visitors.toml"
    broken.write_text(text.replace("share = 0.2\n", "share = -1\n", 1), encoding="utf-8")
    with pytest.raises(TwinConfigError, match=r"visitors\.toml: visitors\.entrances\[0\]\.share"):
        load_crowd_twin(broken)
    broken.write_text(text.replace("[visitors.itinerary]", "[visitors.itinerary]\ncolour = 1"))
    with pytest.raises(TwinConfigError, match=r"visitors\.itinerary\.colour: Extra inputs"):
        load_crowd_twin(broken)


def test_an_attraction_in_an_unknown_area_is_refused(
    westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    config = load_crowd_twin(twin_file(westlake.source)).visitors
    wrong = config.attractions[0].model_copy(update={"area": "brokn-bridge"})
    bad = config.model_copy(update={"attractions": [wrong, *config.attractions[1:]]})
    with pytest.raises(TwinConfigError, match=r"attractions\[0\] \(broken-bridge\): area"):
        VisitorModel(westlake, westlake_network, visitors=10, seed=1, config=bad)
