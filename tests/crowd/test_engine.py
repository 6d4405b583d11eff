"""The occupancy filter on hand-made series at the Broken Bridge (capacity 1300, 6,500 m²)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from lakeguard.crowd.engine import EngineParams, OccupancyEngine, fruin_level
from lakeguard.ingest.schema import Observation, parse_observation
from lakeguard.venue.loader import Scenario

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
GATE_N, GATE_S = "gate-broken-bridge-north", "gate-broken-bridge-south"
CAMERA = "cam-broken-bridge-deck"
AREA = "broken-bridge"


def obs(kind: str, sensor: str, seconds: float, **values: object) -> Observation:
    at = (T0 + timedelta(seconds=seconds)).isoformat()
    return parse_observation(
        {"kind": kind, "sensor_id": sensor, "event_id": f"{sensor}-{seconds}", "at": at, **values}
    )


def crossing(
    sensor: str, seconds: float, entered: int, exited: int, window_s: float = 60
) -> Observation:
    return obs("crossing", sensor, seconds, window_s=window_s, **{"in": entered, "out": exited})


@pytest.fixture
def engine(westlake: Scenario) -> OccupancyEngine:
    # No unmonitored boundary noise, so every variance below can be worked out by hand.
    return OccupancyEngine(westlake, EngineParams(unmonitored_share=0.0))


def test_counting_lines_integrate_in_minus_out(engine: OccupancyEngine) -> None:
    engine.apply(obs("count", CAMERA, 0, count=0))
    engine.apply(crossing(GATE_N, 60, 100, 20))
    engine.apply(crossing(GATE_S, 60, 30, 10))
    e = engine.estimate(AREA, T0.timestamp() + 60)
    assert e is not None
    assert e.occupancy == pytest.approx(100)
    assert e.density == pytest.approx(100 / 6500)
    assert e.ratio == pytest.approx(100 / 1300)


def test_integrated_flows_drift_and_a_count_corrects_them(engine: OccupancyEngine) -> None:
    engine.apply(obs("count", CAMERA, 0, count=0))
    after_count = engine.estimate(AREA, T0.timestamp())
    assert after_count is not None
    var0 = after_count.std**2
    # Ten minutes of 100 in and 50 out a minute: the integral says 500 and its variance grows
    # by (0.03 * 150)² per report.
    for minute in range(1, 11):
        engine.apply(crossing(GATE_N, minute * 60, 100, 50))
    drifted = engine.estimate(AREA, T0.timestamp() + 600)
    assert drifted is not None
    assert drifted.occupancy == pytest.approx(500)
    var = var0 + 10 * (0.03 * 150) ** 2
    assert drifted.std**2 == pytest.approx(var)
    # The camera sees 400 over the whole deck: the Kalman update by hand.
    engine.apply(obs("count", CAMERA, 600, count=400))
    r = (0.10 * 400) ** 2 + 1.0
    gain = var / (var + r)
    corrected = engine.estimate(AREA, T0.timestamp() + 600)
    assert corrected is not None
    assert corrected.occupancy == pytest.approx(500 + gain * (400 - 500))
    assert corrected.std**2 == pytest.approx((1 - gain) * var)
    assert corrected.std < drifted.std


def test_a_partial_view_is_scaled_by_its_coverage(engine: OccupancyEngine) -> None:
    engine.apply(obs("count", CAMERA, 0, count=300, coverage=0.5))
    e = engine.estimate(AREA, T0.timestamp())
    assert e is not None
    # From the wide prior (capacity² variance) one count lands almost exactly on 300 / 0.5.
    assert e.occupancy == pytest.approx(600, rel=0.02)
    assert e.anchored


def test_a_narrow_view_that_sees_nobody_is_not_believed_to_the_last_person(
    engine: OccupancyEngine,
) -> None:
    engine.apply(obs("count", CAMERA, 0, count=0))
    for minute in range(1, 11):
        engine.apply(crossing(GATE_N, minute * 60, 100, 50))
    drifted = engine.estimate(AREA, T0.timestamp() + 600)
    assert drifted is not None and drifted.occupancy == pytest.approx(500)
    var = drifted.std**2
    # A view of 0.5 % of the area sees nobody. Thinning 500 people to 0.5 % leaves about 2.5
    # in view, so seeing none is unremarkable: the sampling variance is N(1 − c)/c with N the
    # estimate (500), not the reading (0), and the estimate barely moves.
    engine.apply(obs("count", CAMERA, 600, count=0, coverage=0.005))
    r = 500 * (1 - 0.005) / 0.005 + 1.0
    gain = var / (var + r)
    seen = engine.estimate(AREA, T0.timestamp() + 600)
    assert seen is not None
    assert seen.occupancy == pytest.approx(500 * (1 - gain))
    assert seen.occupancy > 450


def test_a_silent_line_widens_the_uncertainty_and_keeps_its_trend(engine: OccupancyEngine) -> None:
    engine.apply(obs("count", CAMERA, 0, count=200))
    for minute in range(1, 6):
        engine.apply(crossing(GATE_N, minute * 60, 60, 0))  # a steady 1 person/s inflow
    last = T0.timestamp() + 300
    at_last = engine.estimate(AREA, last)
    # Within silent_after_s the line is only between reports: nothing changes.
    before_silence = engine.estimate(AREA, last + 170)
    later = engine.estimate(AREA, last + 180 + 600)
    assert at_last is not None and before_silence is not None and later is not None
    assert before_silence.occupancy == pytest.approx(at_last.occupancy)
    assert before_silence.std == pytest.approx(at_last.std)
    assert later.std > at_last.std  # wider, not frozen
    assert later.occupancy > at_last.occupancy  # the inflow is assumed to go on, fading
    # The fading trend: rate × τ × (1 − e^(−600/τ)) for the learnt rate.
    rate = 1 - math.exp(-5 * 60 / 300)  # the rate average after five one-minute windows
    expected = rate * 900 * (1 - math.exp(-600 / 900))
    assert later.occupancy - at_last.occupancy == pytest.approx(expected, rel=1e-6)


def test_a_line_reported_offline_is_silent_at_once(engine: OccupancyEngine) -> None:
    engine.apply(obs("count", CAMERA, 0, count=200))
    engine.apply(crossing(GATE_N, 60, 60, 30))
    engine.apply(obs("status", GATE_N, 61, online=False))
    now = engine.estimate(AREA, T0.timestamp() + 61)
    soon = engine.estimate(AREA, T0.timestamp() + 121)
    assert now is not None and soon is not None
    assert soon.std > now.std
    engine.apply(obs("status", GATE_N, 121, online=True))
    back = engine.estimate(AREA, T0.timestamp() + 121)
    later = engine.estimate(AREA, T0.timestamp() + 150)
    assert back is not None and later is not None
    assert later.std == pytest.approx(back.std)  # reporting again: no silence term


def test_a_local_density_reading_is_kept_while_fresh(engine: OccupancyEngine) -> None:
    engine.apply(obs("density", CAMERA, 0, persons_per_m2=4.5, coverage=0.1))
    fresh = engine.estimate(AREA, T0.timestamp() + 60)
    stale = engine.estimate(AREA, T0.timestamp() + 121)
    assert fresh is not None and stale is not None
    assert fresh.local_density == 4.5
    assert stale.local_density is None


def test_occupancy_never_goes_negative(engine: OccupancyEngine) -> None:
    engine.apply(obs("count", CAMERA, 0, count=10))
    engine.apply(crossing(GATE_S, 60, 0, 50))
    e = engine.estimate(AREA, T0.timestamp() + 60)
    assert e is not None and e.occupancy == 0


def test_an_area_never_observed_has_no_estimate(engine: OccupancyEngine) -> None:
    assert engine.estimate("gushan", T0.timestamp()) is None


@pytest.mark.parametrize(
    ("density", "level"),
    [
        (0.0, "A"),
        (0.29, "A"),
        (0.3, "B"),
        (0.43, "C"),
        (0.71, "D"),
        (1.1, "E"),
        (1.99, "E"),
        (2.0, "F"),
        (7.0, "F"),
    ],
)
def test_fruin_levels(density: float, level: str) -> None:
    assert fruin_level(density) == level
