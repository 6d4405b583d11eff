"""The venue-wide estimator on cases small enough to work out by hand (tiny park)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakeguard.crowd.estimator import EstimatorParams, VenueEstimator, fruin_level
from lakeguard.ingest.schema import AreaCount, Observation, SensorStatus, parse_observation
from lakeguard.venue.loader import Scenario, load_scenario
from tests.factories import feature, tiny_scenario, write_scenario

T0 = datetime(2024, 5, 1, 4, 0, tzinfo=UTC)  # noon in the park's time zone


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def park(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The tiny park with its gate between the avenue and the isle, and the isle empty at night."""
    files = tiny_scenario()
    feature(files, "sensors.geojson", "gate-ab")["properties"]["beyond"] = "isle"
    feature(files, "areas.geojson", "isle")["properties"]["empty_hours"] = ["22:00-06:00"]
    folder: Path = tmp_path_factory.mktemp("park") / "tinypark"
    return load_scenario(write_scenario(folder, files))


def crossing(sensor: str, t: float, entered: int, exited: int) -> Observation:
    return parse_observation(
        {"kind": "crossing", "event_id": f"x{t}", "sensor_id": sensor, "at": at(t),
         "window_s": 60.0, "in": entered, "out": exited}
    )  # fmt: skip


def count(t: float, people: int, sensor: str = "cam-e", coverage: float = 1.0) -> Observation:
    return AreaCount(event_id=f"c{t}", sensor_id=sensor, at=at(t), count=people, coverage=coverage)


def started(park: Scenario, params: EstimatorParams | None = None) -> VenueEstimator:
    """An estimator that knows the avenue holds 100 ± 10 and the isle 200 ± 10."""
    estimator = VenueEstimator(park, params)
    estimator.restore("avenue", at=T0.timestamp(), occupancy=100.0, std=10.0)
    estimator.restore("isle", at=T0.timestamp(), occupancy=200.0, std=10.0)
    return estimator


def test_a_line_between_two_areas_moves_people_and_keeps_the_total(park: Scenario) -> None:
    estimator = started(park)
    estimator.apply(crossing("gate-ab", 0.0, entered=30, exited=10))
    avenue = estimator.estimate("avenue", T0.timestamp())
    isle = estimator.estimate("isle", T0.timestamp())
    assert avenue is not None and isle is not None
    assert (avenue.occupancy, isle.occupancy) == (120.0, 180.0)
    # The line's error, (3 % of 40 crossings)², lands on both sides, perfectly anti-correlated:
    # the total's variance does not grow.
    a, i = estimator._index["avenue"], estimator._index["isle"]
    assert estimator.P[a, a] == pytest.approx(100.0 + 1.2**2)
    assert estimator.P[a, i] == pytest.approx(-(1.2**2))
    total = estimator.P[a, a] + estimator.P[i, i] + 2 * estimator.P[a, i]
    assert total == pytest.approx(200.0)


def test_only_a_line_on_the_edge_changes_the_total(park: Scenario) -> None:
    estimator = started(park)
    estimator.apply(crossing("check-b", 0.0, entered=25, exited=5))  # the checkpoint: outside
    assert estimator.areas_of("check-b") == ("avenue",)
    assert estimator.areas_of("gate-ab") == ("avenue", "isle")
    avenue = estimator.estimate("avenue", T0.timestamp())
    isle = estimator.estimate("isle", T0.timestamp())
    assert avenue is not None and isle is not None
    assert avenue.occupancy + isle.occupancy == 320.0


def test_an_unseen_outflow_carries_the_estimate_down(park: Scenario) -> None:
    params = EstimatorParams(leak_share=0.0)
    estimator = started(park, params)
    a, k = estimator._index["avenue"], estimator.k
    # The prior spread of the unseen flow is Little's law: half the capacity over the dwell.
    capacity = 560
    typical = params.typical_share * capacity  # L, people staying dwell_s (W) each
    assert math.sqrt(estimator.P[k + a, k + a]) == pytest.approx(
        params.flow_scale * typical / params.dwell_s
    )
    estimator.x[k + a] = -0.1  # a person leaving unseen every 10 s
    estimate = estimator.estimate("avenue", T0.timestamp() + 600.0)
    assert estimate is not None
    tau = params.flow_memory_s
    assert estimate.occupancy == pytest.approx(100.0 - 0.1 * tau * (1 - math.exp(-600.0 / tau)))
    # Cameras that keep seeing fewer people than the lines imply teach it the outflow.
    learner = started(park, params)
    for minute in range(1, 31):
        learner.apply(count(minute * 60.0, 100 - 2 * minute))
    assert learner.x[k + a] * 60.0 == pytest.approx(-2.0, rel=0.25)


def test_persistent_surprise_inflates_the_process_noise(park: Scenario) -> None:
    params = EstimatorParams(surprise_gate=1e6, count_error=0.0)
    estimator = started(park, params)
    a = estimator._index["avenue"]
    # A camera reading 300 while the state says 100 ± 10: NIS ≈ 200² / (100 + 300 + 1) ≈ 100,
    # capped at 100, so the windowed mean passes 3 on the second reading and the noise grows
    # 1.5 × per reading from there.
    estimator.apply(count(60.0, 300))
    estimator.tick(T0.timestamp() + 60.0)  # pending readings are folded in when time moves on
    assert estimator.nis[a] == pytest.approx(1 + (100 - 1) / 20)
    assert estimator.inflate[a] == 1.5
    estimator.apply(count(120.0, 300))
    estimator.tick(T0.timestamp() + 120.0)
    assert estimator.inflate[a] == 1.5**2
    # Readings that agree again bring it back down.
    calm = started(park, params)
    calm.apply(count(60.0, 100))
    calm.tick(T0.timestamp() + 60.0)
    assert calm.inflate[a] == 1.0 and calm.nis[a] < 1.0


def test_silence_is_flagged_and_widens_the_interval(park: Scenario) -> None:
    estimator = started(park)
    estimator.apply(count(0.0, 100))
    for sensor in ("gate-ab", "drone-a", "check-b"):
        estimator.apply(SensorStatus(event_id="s", sensor_id=sensor, at=at(0.0), online=True))  # fmt: skip
    heard = estimator.estimate("avenue", T0.timestamp())
    quiet = estimator.estimate("avenue", T0.timestamp() + 599.0)
    silent = estimator.estimate("avenue", T0.timestamp() + 600.0)
    assert heard is not None and quiet is not None and silent is not None
    assert not heard.silent and not quiet.silent and silent.silent
    assert silent.std > quiet.std > heard.std
    assert silent.high80 - silent.low80 > heard.high80 - heard.low80
    # A faulty sensor does not count: the remaining ones being quiet is silence.
    estimator.mark_faulty("cam-e", True)
    estimator.apply(count(700.0, 999))
    after = estimator.estimate("avenue", T0.timestamp() + 700.0)
    assert after is not None and after.silent and after.occupancy < 200


def test_empty_hours_pull_softly_towards_nobody(park: Scenario) -> None:
    estimator = started(park)
    night = datetime(2024, 5, 1, 15, 0, tzinfo=UTC).timestamp()  # 23:00 in Shanghai
    estimator.tick(night)
    isle = estimator.estimate("isle", night)
    avenue = estimator.estimate("avenue", night)
    assert isle is not None and avenue is not None
    assert 0 < isle.occupancy < 100  # pulled down, not reset
    assert avenue.occupancy == pytest.approx(100.0, abs=1.0)


def test_a_manual_count_is_a_measurement(park: Scenario) -> None:
    estimator = started(park)
    estimator.manual_count("avenue", at=T0.timestamp(), count=200.0, std=10.0)
    estimate = estimator.estimate("avenue", T0.timestamp())
    assert estimate is not None
    assert estimate.occupancy == pytest.approx(150.0)  # equal weights: halfway
    assert estimator.contributors("avenue", T0.timestamp()) == ["manual"]


def test_estimates_stay_within_zero_and_the_physical_maximum(park: Scenario) -> None:
    estimator = started(park)
    estimator.apply(crossing("check-b", 0.0, entered=0, exited=500))
    low = estimator.estimate("avenue", T0.timestamp())
    estimator.apply(crossing("check-b", 60.0, entered=100_000, exited=0))
    high = estimator.estimate("avenue", T0.timestamp() + 60.0)
    assert low is not None and high is not None
    assert low.occupancy == 0.0 and low.low80 == 0.0
    assert high.occupancy == pytest.approx(2800.0 * 5.0)


def test_an_area_never_observed_has_no_estimate(park: Scenario) -> None:
    assert VenueEstimator(park).estimate("lake", T0.timestamp()) is None


@pytest.mark.parametrize(
    ("density", "level"),
    [(0.0, "A"), (0.29, "A"), (0.3, "B"), (0.5, "C"), (1.0, "D"), (1.5, "E"), (2.0, "F")],
)
def test_fruin_levels(density: float, level: str) -> None:
    assert fruin_level(density) == level
