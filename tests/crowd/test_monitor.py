"""The crowd monitor against a database: sampling, the predictive alert, restoring state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

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
    assert 1200 < estimate.occupancy < 1300
