"""The crowd monitor against a database: sampling, the predictive alert, restoring state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from lakeguard.crowd.alerts import Level
from lakeguard.crowd.models import AlertRow, AlertTimelineRow, EstimateRow
from lakeguard.crowd.monitor import CrowdMonitor
from lakeguard.ingest.schema import Observation, parse_observation
from lakeguard.store.outbox import OutboxRow
from lakeguard.store.session import make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario

CAMERA = "cam-broken-bridge-deck"
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def count(minute: float, people: int) -> Observation:
    return parse_observation(
        {
            "kind": "count",
            "event_id": f"m{minute}",
            "sensor_id": CAMERA,
            "at": (T0 + timedelta(minutes=minute)).isoformat(),
            "count": people,
        }
    )


def test_a_steady_rise_is_predicted_before_it_arrives(
    westlake: Scenario, db_engine: Engine
) -> None:
    sessions = make_sessionmaker(db_engine)
    monitor = CrowdMonitor(westlake)
    # 40 minutes climbing 10 people a minute from 500: at 900 (69 %) the trend reaches
    # orange (1,170) in about 27 minutes and nothing has been raised yet.
    with transaction(sessions) as session:
        monitor.process(session, [count(m, 500 + 10 * m) for m in range(41)])
    assert monitor.level("broken-bridge") == Level.NONE
    with sessions() as session:
        alert = session.scalars(select(AlertRow)).one()
        samples = session.scalars(
            select(EstimateRow).where(EstimateRow.area_id == "broken-bridge")
        ).all()
        predicted = [
            r.payload
            for r in session.scalars(
                select(OutboxRow).where(OutboxRow.topic == "crowd.alert.predicted")
            )
        ]
        notes = [t.note for t in session.scalars(select(AlertTimelineRow))]
    assert len(samples) == 41  # one a minute
    assert alert.cause == "forecast" and alert.level == Level.NONE
    assert alert.predicted_level is not None and alert.predicted_level >= Level.YELLOW
    assert alert.predicted_in_s is not None and 0 < alert.predicted_in_s <= 1800
    assert predicted and "Broken Bridge will reach" in predicted[-1]["message"]
    assert any("in about" in n for n in notes)


def test_the_forecast_looks_ahead_once_per_batch_at_most(
    westlake: Scenario, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = make_sessionmaker(db_engine)
    monitor = CrowdMonitor(westlake)
    looked: list[str] = []
    forecast = monitor.forecast

    def counted(area_id: str) -> Any:
        looked.append(area_id)
        return forecast(area_id)

    monkeypatch.setattr(monitor, "forecast", counted)
    with transaction(sessions) as session:  # 40 minutes of data in one batch
        monitor.process(session, [count(m, 500 + 10 * m) for m in range(41)])
    assert looked == ["broken-bridge"]
    with transaction(sessions) as session:  # within predict_s of the last look
        monitor.process(session, [count(43, 930)])
    assert looked == ["broken-bridge"]
    with transaction(sessions) as session:
        monitor.process(session, [count(46, 960)])
    assert looked == ["broken-bridge", "broken-bridge"]


def test_state_survives_a_restart(westlake: Scenario, db_engine: Engine) -> None:
    sessions = make_sessionmaker(db_engine)
    first = CrowdMonitor(westlake)
    with transaction(sessions) as session:
        first.process(session, [count(m / 6, 1250) for m in range(12)])  # two minutes at 96 %
    assert first.level("broken-bridge") == Level.ORANGE
    again = CrowdMonitor(westlake)
    with sessions() as session:
        again.restore(session)
    assert again.level("broken-bridge") == Level.ORANGE
    (estimate,) = [e for e in again.estimates(T0.timestamp() + 120) if e.area_id == "broken-bridge"]
    # 1,250 seen by a head counter that misses about 4.5 % at this density: about 1,309 there.
    assert 1280 < estimate.occupancy < 1330


def outbox(sessions: sessionmaker[Session], topic: str) -> list[dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.topic == topic))
        return [r.payload for r in rows]


def test_silent_sensors_are_announced_and_the_clock_rejudges(
    westlake: Scenario, db_engine: Engine
) -> None:
    sessions = make_sessionmaker(db_engine)
    monitor = CrowdMonitor(westlake)
    with transaction(sessions) as session:
        monitor.process(session, [count(m / 6, 1250) for m in range(12)])  # two minutes at 96 %
    assert monitor.level("broken-bridge") == Level.ORANGE
    last = T0.timestamp() + 110.0
    silence_s = monitor.engine.params.silence_s
    with transaction(sessions) as session:
        monitor.tick(session, last + silence_s - 10.0)
    assert outbox(sessions, "crowd.sensor_silence") == []
    with transaction(sessions) as session:
        monitor.tick(session, last + silence_s)
    (silence,) = outbox(sessions, "crowd.sensor_silence")
    assert silence["area_id"] == "broken-bridge" and silence["silent"] is True
    assert CAMERA in silence["sensors"] and "gate-broken-bridge-south" in silence["sensors"]
    # The tick re-judged the area at the clock's time: a sample was stored then.
    with sessions() as session:
        newest = session.scalars(
            select(EstimateRow)
            .where(EstimateRow.area_id == "broken-bridge")
            .order_by(EstimateRow.at.desc())
        ).first()
    assert newest is not None and newest.at.timestamp() == last + silence_s - 10.0
    # Heard again: the silence ends with its own event.
    with transaction(sessions) as session:
        monitor.process(session, [count((silence_s + 200) / 60, 1250)])
    assert [e["silent"] for e in outbox(sessions, "crowd.sensor_silence")] == [True, False]


def test_an_alert_carries_its_interval_confidence_and_sources(
    westlake: Scenario, db_engine: Engine
) -> None:
    sessions = make_sessionmaker(db_engine)
    monitor = CrowdMonitor(westlake)
    with transaction(sessions) as session:
        monitor.process(session, [count(m / 6, 1250) for m in range(12)])
    levels = outbox(sessions, "crowd.alert.level")
    raised = levels[-1]
    assert raised["level"] == "orange"
    assert raised["low80"] < raised["ratio"] < raised["high80"]
    assert raised["low80"] >= 0.9  # the rule: the interval's low end is past orange
    assert 0.9 <= raised["confidence"] < 1.0
    assert raised["contributors"] == [CAMERA]


def test_a_manual_count_moves_the_estimate_and_a_faulty_sensor_is_ignored(
    westlake: Scenario, db_engine: Engine
) -> None:
    sessions = make_sessionmaker(db_engine)
    monitor = CrowdMonitor(westlake)
    monitor.mark_faulty(CAMERA, True)
    with transaction(sessions) as session:
        monitor.process(session, [count(m / 6, 1250) for m in range(12)])
        monitor.manual_count(session, "broken-bridge", at=T0.timestamp() + 120, count=400, std=20)
    (estimate,) = [
        e for e in monitor.estimates(T0.timestamp() + 120) if e.area_id == "broken-bridge"
    ]
    assert estimate.occupancy == pytest.approx(400, abs=25)
    assert monitor.level("broken-bridge") == Level.NONE
