"""NFPA 1710 intervals worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lakeguard.incidents.metrics import AssignmentTimes, IncidentTimes, report, samples

T0 = datetime(2024, 5, 1, 2, 40, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


INCIDENTS = [
    IncidentTimes(1, "lost_child", "broken-bridge", "yuemiao", T0, [
        AssignmentTimes("u1", at(40), at(70), at(130)),
        AssignmentTimes("u2", at(50), at(60), at(200)),
    ]),
    IncidentTimes(2, "theft", "gushan", "yuemiao", T0, [AssignmentTimes("u1", at(100), at(160), None)]),
    IncidentTimes(3, "theft", "gushan", "yuemiao", T0, []),
]  # fmt: skip


def test_intervals_by_hand() -> None:
    found = {(s.interval, s.unit, s.type): s.seconds for s in samples(INCIDENTS)}
    assert found[("processing", None, "lost_child")] == 40  # first dispatch
    assert found[("response", None, "lost_child")] == 130  # first arrival
    assert found[("turnout", "u1", "lost_child")] == 30
    assert found[("travel", "u2", "lost_child")] == 140
    assert found[("processing", None, "theft")] == 100
    assert ("response", None, "theft") not in found  # nobody arrived yet
    assert ("travel", "u1", "theft") not in found


def test_report_groups_and_percentiles() -> None:
    overall = report(samples(INCIDENTS))["all"]
    assert overall["processing"]["count"] == 2  # type: ignore[index]
    assert overall["processing"]["p50"] == 70  # type: ignore[index]
    by_unit = report(samples(INCIDENTS), "unit")
    assert set(by_unit) == {"u1", "u2"}
    assert by_unit["u1"]["turnout"]["count"] == 2  # type: ignore[index]
    with pytest.raises(ValueError, match="group_by must be one of"):
        report([], "weather")
