"""Expected turnouts learnt from the platform's own assignments, by unit kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from lakeguard.incidents.models import AssignmentRow, IncidentRow
from lakeguard.incidents.service import MIN_TURNOUTS, expected_turnouts
from lakeguard.store.session import make_sessionmaker, transaction

NOW = datetime(2026, 10, 2, 4, 0, tzinfo=UTC)


def assignment(
    incident: int, unit: str, turnout_s: float | None, days_ago: float = 0
) -> AssignmentRow:
    dispatched = NOW - timedelta(days=days_ago, hours=1)
    return AssignmentRow(
        incident_id=incident, unit_id=unit, status="resolved", eta_s=None, eta_p90_s=None,
        reasons=[], dispatched_at=dispatched,
        acknowledged_at=None if turnout_s is None else dispatched + timedelta(seconds=turnout_s),
        on_scene_at=None, resolved_at=None, cancelled_at=None,
    )  # fmt: skip


def test_each_kind_with_enough_history_gets_its_own_turnout(
    db_engine: Engine, westlake_db: list[Any]
) -> None:
    officers = [s.id for s in westlake_db if s.kind.value == "officer"]
    boat = next(s.id for s in westlake_db if s.kind.value == "boat")
    with transaction(make_sessionmaker(db_engine)) as session:
        incidents = [
            IncidentRow(
                venue_id="westlake", type="lost_property", priority=3, status="closed",
                source="phone", lon=120.15, lat=30.25, received_at=NOW - timedelta(days=30),
                created_by="test", closed_at=None,
            )
            for _ in range(4)
        ]  # fmt: skip
        session.add_all(incidents)
        session.flush()
        ids = [i.id for i in incidents]
        pairs = [(ids[n // len(officers)], officers[n % len(officers)]) for n in range(12)]
        rows = [assignment(i, u, 20.0 + 2 * n) for n, (i, u) in enumerate(pairs[:MIN_TURNOUTS])]
        rows.append(assignment(*pairs[10], 999.0, days_ago=20))  # too old
        rows.append(assignment(*pairs[11], None))  # never acknowledged
        rows.append(assignment(ids[0], boat, 60.0))  # one boat: too few to learn from
        session.add_all(rows)
    with make_sessionmaker(db_engine)() as session:
        found = expected_turnouts(session, now=NOW)
    assert set(found) == {"officer"}
    p50, p90 = found["officer"]
    assert p50 == pytest.approx(29.0) and p90 == pytest.approx(36.2)
