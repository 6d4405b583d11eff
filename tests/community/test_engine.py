"""The case life cycle, overdue periods and coverage arithmetic (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lakeguard.community.engine import (
    CaseStatus,
    Category,
    CommunityFigures,
    IllegalTransition,
    check_case_move,
    coverage_by,
    overdue_period,
    targets,
)

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def _community(cid: int, station: str, reachable: int, members: int) -> CommunityFigures:
    return CommunityFigures(cid, f"c{cid}", station, "westlake", reachable + 100, reachable,
                            members, 1)  # fmt: skip


def test_coverage_adds_members_and_reachable_population_per_station_and_venue() -> None:
    # yuemiao: (450 + 90) / (500 + 100) = 0.90; liulang: 300 / 400 = 0.75; venue 840/1000.
    rows = [
        _community(1, "yuemiao", 500, 450),
        _community(2, "yuemiao", 100, 90),
        _community(3, "liulang", 400, 300),
    ]
    found = coverage_by(rows, 0.88)
    stations = {c.key: c for c in found["stations"]}
    assert stations["yuemiao"].ratio == pytest.approx(0.90)
    assert stations["yuemiao"].meets_target and stations["yuemiao"].shortfall == 0
    assert stations["liulang"].ratio == pytest.approx(0.75)
    assert not stations["liulang"].meets_target
    assert stations["liulang"].shortfall == 52  # ceil(0.88 × 400) − 300 = 352 − 300
    (venue,) = found["venues"]
    assert (venue.members, venue.reachable, venue.groups) == (840, 1000, 3)
    assert venue.ratio == pytest.approx(0.84) and venue.shortfall == 40
    assert [c.ratio for c in found["communities"]] == pytest.approx([0.9, 0.9, 0.75])


def test_coverage_of_a_community_nobody_can_reach_is_unknown_not_zero() -> None:
    (c,) = coverage_by([_community(1, "xixi", 0, 0)], 0.88)["communities"]
    assert c.ratio is None and not c.meets_target and c.shortfall == 0


def test_the_case_life_cycle_allows_its_moves_and_names_a_refused_one() -> None:
    check_case_move(CaseStatus.RECEIVED, CaseStatus.TRIAGED)
    check_case_move(CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED)
    check_case_move(CaseStatus.RESOLVED, CaseStatus.CLOSED)
    with pytest.raises(IllegalTransition, match="from received to resolved"):
        check_case_move(CaseStatus.RECEIVED, CaseStatus.RESOLVED)
    with pytest.raises(IllegalTransition, match="it is final"):
        check_case_move(CaseStatus.CLOSED, CaseStatus.TRIAGED)


def test_overdue_periods_count_whole_targets() -> None:
    assert overdue_period(T0, T0 + timedelta(hours=47, minutes=59), 48) == 0
    assert overdue_period(T0, T0 + timedelta(hours=48), 48) == 1
    assert overdue_period(T0, T0 + timedelta(hours=100), 48) == 2


def test_targets_take_overrides_by_category_and_refuse_nonsense() -> None:
    merged = targets({"dispute": 120})
    assert merged[Category.DISPUTE] == 120 and merged[Category.CONSULTATION] == 48
    with pytest.raises(ValueError):
        targets({"dispute": 0})
    with pytest.raises(ValueError):
        targets({"gossip": 5})


def test_the_west_lake_model_adds_up_to_the_reported_figures() -> None:
    from lakeguard.community.seed import westlake_communities

    specs = westlake_communities()
    groups = [g for c in specs for g in c.groups]
    members = sum(g.members for g in groups)
    reachable = sum(c.reachable_population for c in specs)
    assert (len(groups), members) == (85, 18_000)
    assert members / reachable == pytest.approx(0.88, abs=0.005)
    yuemiao = [c for c in specs if c.station_id == "yuemiao"]
    assert sum(len(c.groups) for c in yuemiao) >= 20  # one station: 20+ groups at 90 %+
    ratio = sum(g.members for c in yuemiao for g in c.groups) / sum(
        c.reachable_population for c in yuemiao
    )
    assert ratio >= 0.90
    assert all(c.reachable_population <= c.registered_population for c in specs)
