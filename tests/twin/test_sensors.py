"""The sensor model: valid observations, failures bracketed by status, and counts that track."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from pydantic import ValidationError

from lakeguard.crowd.estimator import VenueEstimator
from lakeguard.ingest.schema import parse_observations
from lakeguard.twin.config import (
    Clustering,
    SensorConfig,
    SensorLoss,
    load_crowd_twin,
    twin_file,
)
from lakeguard.twin.frame import CrowdFrame
from lakeguard.twin.sensors import SensorModel
from lakeguard.twin.visitors import VisitorModel
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork

MIDNIGHT = datetime(2024, 5, 1, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def morning(westlake: Scenario, westlake_network: TravelNetwork) -> list[CrowdFrame]:
    """Frames of a minute each from 08:00 to 11:00 of a 60,000-visitor day."""
    model = VisitorModel(westlake, westlake_network, visitors=60_000, seed=4)
    for _ in range(16):
        model.step(1800.0)
    return [model.step(60.0) for _ in range(180)]


def observe_all(model: SensorModel, frames: list[CrowdFrame]) -> list[list[dict[str, Any]]]:
    return [model.observe(frame) for frame in frames]


def test_observations_pass_the_ingest_validator(
    westlake: Scenario, morning: list[CrowdFrame]
) -> None:
    sensors = SensorModel(westlake, seed=1, day_start=MIDNIGHT)
    batches = observe_all(sensors, morning)
    seen: set[tuple[str, str]] = set()
    kinds: set[str] = set()
    for frame, batch in zip(morning, batches, strict=True):
        parsed = parse_observations(batch)
        start = MIDNIGHT + timedelta(seconds=frame.t_s - frame.dt_s)
        end = MIDNIGHT + timedelta(seconds=frame.t_s)
        for item in parsed:
            assert start < item.at <= end
            key = (item.sensor_id, item.event_id)
            assert key not in seen
            seen.add(key)
            kinds.add(item.kind)
    assert kinds >= {"crossing", "count"}
    reporting = {sensor for sensor, _ in seen}
    assert reporting == {s.id for s in westlake.sensors}


def test_drones_count_only_in_daylight_every_few_minutes(
    westlake: Scenario, morning: list[CrowdFrame]
) -> None:
    sensors = SensorModel(westlake, seed=1, day_start=MIDNIGHT)
    drone_counts = [
        sum(1 for o in batch if o["sensor_id"] == "drone-broken-bridge")
        for batch in observe_all(sensors, morning)
    ]
    assert 25 <= sum(drone_counts) <= 36  # every 5 minutes over 3 hours, a few lost
    night = CrowdFrame(
        t_s=3 * 3600.0, dt_s=300.0, area_ids=morning[0].area_ids, occupancy=morning[0].occupancy,
        exposure_s=morning[0].exposure_s, gate_in={}, gate_out={}, in_venue=0, arrived=0, departed=0,
    )  # fmt: skip
    assert not [o for o in sensors.observe(night) if o["sensor_id"].startswith("drone-")]


def test_same_seed_same_observations(westlake: Scenario, morning: list[CrowdFrame]) -> None:
    def run(seed: int) -> list[list[dict[str, Any]]]:
        return observe_all(SensorModel(westlake, seed=seed, day_start=MIDNIGHT), morning[:30])

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_offline_spells_are_bracketed_by_status(
    westlake: Scenario, morning: list[CrowdFrame]
) -> None:
    config = load_crowd_twin(twin_file(westlake.source)).sensors
    failures = config.failures.model_copy(
        update={"offline_per_day": 24.0, "offline_min_s": 600.0, "offline_max_s": 1200.0}
    )
    sensors = SensorModel(
        westlake,
        seed=2,
        day_start=MIDNIGHT,
        config=config.model_copy(update={"failures": failures}),
    )
    state: dict[str, bool] = {}
    spells = 0
    for batch in observe_all(sensors, morning):
        for item in batch:
            sensor = item["sensor_id"]
            if item["kind"] == "status":
                assert state.get(sensor, True) != item["online"], "status must alternate"
                state[sensor] = item["online"]
                spells += not item["online"]
            else:
                assert state.get(sensor, True), f"{sensor} reported while offline"
    assert spells >= 20


def test_gates_undercount_by_a_few_percent(westlake: Scenario, morning: list[CrowdFrame]) -> None:
    sensors = SensorModel(westlake, seed=1, day_start=MIDNIGHT)
    gates = {s.id for s in westlake.sensors if s.kind == "gate"}
    reported = true = 0
    for frame, batch in zip(morning, observe_all(sensors, morning), strict=True):
        for item in batch:
            if item["sensor_id"] in gates and item["kind"] == "crossing":
                reported += item["in"] + item["out"]
                true += frame.gate_in[item["sensor_id"]] + frame.gate_out[item["sensor_id"]]
    assert true > 10_000
    assert 0.93 < reported / true < 0.995


def test_the_crowd_monitor_tracks_the_truth(westlake: Scenario, morning: list[CrowdFrame]) -> None:
    sensors = SensorModel(westlake, seed=1, day_start=MIDNIGHT)
    engine = VenueEstimator(westlake)
    for batch in observe_all(sensors, morning):
        for item in parse_observations(batch):
            engine.apply(item)
    last = morning[-1]
    now = (MIDNIGHT + timedelta(seconds=last.t_s)).timestamp()
    # Areas watched by a drone or a wide camera view, and areas whose narrow camera mostly
    # counts nobody (the monitor must not take those zeros at face value).
    for area in ("broken-bridge", "bai-causeway", "hubin-lakeside"):
        truth = int(last.occupancy[last.area_ids.index(area)])
        estimate = engine.estimate(area, now)
        assert estimate is not None and truth > 50
        assert estimate.occupancy == pytest.approx(truth, rel=0.3), area
    for area in ("gushan", "su-causeway-south", "beishan-road", "liulang-wenying"):
        truth = int(last.occupancy[last.area_ids.index(area)])
        estimate = engine.estimate(area, now)
        assert estimate is not None and truth > 100
        assert estimate.occupancy == pytest.approx(truth, rel=0.4), area


def with_loss(westlake: Scenario, **loss: Any) -> SensorConfig:
    config = load_crowd_twin(twin_file(westlake.source)).sensors
    return config.model_copy(update={"loss": SensorLoss(**loss)})


def test_the_scenario_asks_for_no_extra_loss(westlake: Scenario) -> None:
    assert load_crowd_twin(twin_file(westlake.source)).sensors.loss is None


def test_sensor_loss_drops_a_share_of_the_same_reports(
    westlake: Scenario, morning: list[CrowdFrame]
) -> None:
    ordinary = observe_all(SensorModel(westlake, seed=5, day_start=MIDNIGHT), morning)
    config = with_loss(westlake, share=0.2, line_outage_s=0)
    harsh = observe_all(SensorModel(westlake, seed=5, day_start=MIDNIGHT, config=config), morning)

    def reports(batches: list[list[dict[str, Any]]]) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (o["sensor_id"], o["event_id"]): o for b in batches for o in b if o["kind"] != "status"
        }

    kept, sent = reports(harsh), reports(ordinary)
    assert kept.keys() <= sent.keys()
    assert all(kept[key] == sent[key] for key in kept)  # the same values, fewer of them
    assert 0.77 < len(kept) / len(sent) < 0.83  # 20 % of some 9,000 reports lost


def test_every_counting_line_goes_offline_once_for_an_hour(
    westlake: Scenario, morning: list[CrowdFrame]
) -> None:
    config = with_loss(westlake, share=0.0, outage_from="08:00", outage_to="09:30")
    config = config.model_copy(
        update={"failures": config.failures.model_copy(update={"offline_per_day": 0.0})}
    )
    sensors = SensorModel(westlake, seed=6, day_start=MIDNIGHT, config=config)
    lines = {s.id for s in westlake.sensors if s.kind in ("gate", "checkpoint")}
    went: dict[str, datetime] = {}
    back: dict[str, datetime] = {}
    for batch in observe_all(sensors, morning):
        for item in batch:
            at = datetime.fromisoformat(item["at"])
            sensor = item["sensor_id"]
            if item["kind"] == "status":
                assert sensor not in (back if item["online"] else went), "one outage a day"
                (back if item["online"] else went)[sensor] = at
            elif sensor in went and sensor not in back:
                pytest.fail(f"{sensor} reported while offline")
    assert went.keys() == lines == back.keys()
    for sensor in lines:
        assert MIDNIGHT + timedelta(hours=8) < went[sensor] <= MIDNIGHT + timedelta(hours=9.5)
        assert back[sensor] - went[sensor] == timedelta(hours=1)
    starts = sorted(went.values())
    assert starts[-1] - starts[0] > timedelta(minutes=30)  # drawn, not all at once


def test_sensor_loss_validates_its_window(westlake: Scenario) -> None:
    raw = load_crowd_twin(twin_file(westlake.source)).sensors.model_dump()
    raw["loss"] = {"share": 0.1, "outage_from": "12:00", "outage_to": "09:00"}
    with pytest.raises(ValidationError, match="outage_from is not before outage_to"):
        SensorConfig.model_validate(raw)
    raw["loss"] = {"share": 0.9}
    with pytest.raises(ValidationError, match="share"):
        SensorConfig.model_validate(raw)


def camera_totals(batches: list[list[dict[str, Any]]], cameras: set[str]) -> dict[str, int]:
    totals = dict.fromkeys(cameras, 0)
    for batch in batches:
        for item in batch:
            if item["sensor_id"] in cameras and item["kind"] == "count":
                totals[item["sensor_id"]] += item["count"]
    return totals


def test_clustered_crowds_bias_each_camera_for_the_day(
    westlake: Scenario, morning: list[CrowdFrame]
) -> None:
    config = load_crowd_twin(twin_file(westlake.source)).sensors
    assert config.clustering is None  # the scenario's own day spreads people evenly
    clustered = config.model_copy(update={"clustering": Clustering(bias_sd=0.5, drift_sd=0.0)})
    cameras = {s.id for s in westlake.sensors if s.kind == "camera"}

    def day(seed: int, sensors: SensorConfig) -> list[list[dict[str, Any]]]:
        return observe_all(
            SensorModel(westlake, seed=seed, day_start=MIDNIGHT, config=sensors), morning
        )

    ordinary, other_seed, uneven = day(7, config), day(8, config), day(7, clustered)
    base = camera_totals(ordinary, cameras)
    busy = [c for c in cameras if base[c] >= 100]
    assert len(busy) >= 8

    def spread(totals: dict[str, int]) -> float:
        return float(np.std([np.log(totals[c] / base[c]) for c in busy]))

    # Evenly spread, another seed's cameras agree within sampling noise; clustered, each
    # camera keeps its own bias all morning (log-odds sd 0.5, about a factor 1.6 either way).
    assert spread(camera_totals(other_seed, cameras)) < 0.15
    assert 0.25 < spread(camera_totals(uneven, cameras)) < 0.9


def drone_log_ratios(
    westlake: Scenario, morning: list[CrowdFrame], clustering: Clustering | None, seed: int
) -> np.ndarray:
    """log(count / people in the area) of each of Hubin's drone sorties over the morning."""
    config = load_crowd_twin(twin_file(westlake.source)).sensors
    config = config.model_copy(update={"clustering": clustering})
    sensors = SensorModel(westlake, seed=seed, day_start=MIDNIGHT, config=config)
    area = morning[0].area_ids.index("hubin-lakeside")
    ratios = [
        o["count"] / frame.occupancy[area]
        for frame, batch in zip(morning, observe_all(sensors, morning), strict=True)
        for o in batch
        if o["sensor_id"] == "drone-hubin" and o["kind"] == "count"
    ]
    assert len(ratios) >= 30
    return np.log(np.array(ratios))


def lag_one_correlation(series: np.ndarray) -> float:
    return float(np.corrcoef(series[:-1], series[1:])[0, 1])


def test_clustered_crowds_wander_slowly(westlake: Scenario, morning: list[CrowdFrame]) -> None:
    wander = Clustering(bias_sd=0.0, drift_sd=0.5, drift_tau_s=1800.0)
    even = drone_log_ratios(westlake, morning, None, seed=9)
    uneven = drone_log_ratios(westlake, morning, wander, seed=9)
    # Evenly spread, a sortie's share of the people differs from the last by sampling noise
    # only; wandering, the share moves far more, and slowly: sorties five minutes apart
    # (a sixth of the wander's time constant) see much the same share.
    assert even.std() < 0.12 < 0.15 < uneven.std()
    assert lag_one_correlation(even) < 0.3 < lag_one_correlation(uneven)
