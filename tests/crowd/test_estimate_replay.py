"""The estimate benchmark's replay: which areas it scores, and what it records minute by minute."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from bench.estimate import Replay, arguments, baseline, sensor_settings, under_test

from lakeguard.crowd.alerts import AlertRules, Level
from lakeguard.twin.config import load_crowd_twin, twin_file
from lakeguard.twin.frame import CrowdFrame
from lakeguard.venue.loader import Scenario

MIDNIGHT = datetime(2024, 5, 1, tzinfo=ZoneInfo("Asia/Shanghai"))


def frame(westlake: Scenario, t_s: float, bridge: int) -> CrowdFrame:
    ids = tuple(a.id for a in westlake.areas)
    occupancy = np.zeros(len(ids), dtype=np.int64)
    occupancy[ids.index("broken-bridge")] = bridge
    return CrowdFrame(
        t_s=t_s, dt_s=60.0, area_ids=ids, occupancy=occupancy, exposure_s=np.zeros(len(ids)),
        gate_in={}, gate_out={}, in_venue=bridge, arrived=0, departed=0,
    )  # fmt: skip


def drone_count(t_s: float, count: int) -> dict[str, Any]:
    return {
        "event_id": f"e-{t_s:.0f}", "sensor_id": "drone-broken-bridge", "kind": "count",
        "at": (MIDNIGHT + timedelta(seconds=t_s)).isoformat(), "count": count, "coverage": 1.0,
    }  # fmt: skip


def test_replay_scores_watched_areas_and_records_levels(westlake: Scenario) -> None:
    rules = AlertRules()
    replay = Replay(
        westlake, [under_test(westlake), baseline(westlake)], MIDNIGHT.timestamp(), rules
    )
    watched = {a.id for a in replay.areas}
    assert len(watched) == 22
    assert {"leifeng-pagoda", "broken-bridge", "xixi-core", "jiulisong"} <= watched
    assert not watched & {"outer-lake", "nanshan-lakeside"}  # no capacity; no sensor
    # The Broken Bridge over full for three minutes, and the drone counting every one of them.
    for minute in (1, 2, 3):
        t_s = 10 * 3600.0 + 60.0 * minute
        replay(frame(westlake, t_s, 1400), [drone_count(t_s, 1400)])
    bridge = [a.id for a in replay.areas].index("broken-bridge")
    assert [row[bridge] for row in replay.truth] == [1400.0] * 3
    track = replay.tracks[1]  # the baseline
    assert track.mean[-1][bridge] == pytest.approx(1400, rel=0.05)
    assert track.low[-1][bridge] < track.mean[-1][bridge] < track.high[-1][bridge]
    # Raised after the hold: 1400 is 108 % of capacity.
    assert [row[bridge] for row in track.level] == [Level.NONE, Level.RED, Level.RED]
    for each in replay.tracks:
        assert len(each.mean) == len(each.level) == 3
        assert all(len(row) == 22 for row in each.high)
    # An area the baseline never heard from: nobody, about the capacity wide, no level.
    leifeng = [a.id for a in replay.areas].index("leifeng-pagoda")
    assert (track.mean[0][leifeng], track.std[0][leifeng], track.level[0][leifeng]) == (
        0.0,
        480.0,
        0,
    )
    _, theirs = replay.scores(rules)
    assert [s.area_id for s in theirs] == [a.id for a in replay.areas]
    assert theirs[bridge].truth_alert_minutes == 2
    assert theirs[bridge].minutes == 3


def test_sensor_options_reach_the_twin_config(westlake: Scenario) -> None:
    base = load_crowd_twin(twin_file(westlake.source)).sensors
    plain = sensor_settings(base, arguments([]))
    assert plain == base
    harsh = sensor_settings(base, arguments(["--sensor-loss", "0.05", "--clustered"]))
    assert harsh.loss is not None and harsh.loss.share == 0.05
    assert harsh.loss.line_outage_s == 3600.0
    assert harsh.clustering is not None
    assert harsh.failures == base.failures


def test_sensor_loss_outside_its_range_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        arguments(["--sensor-loss", "0.7"])
    assert "between 0 and 0.5" in capsys.readouterr().err
