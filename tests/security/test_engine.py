"""The monthly training report (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from lakeguard.security.engine import month_bounds, training_report


def test_trained_this_month_and_overdue_over_the_window_ending_the_month() -> None:
    guards = {"xihu-security": ["g1", "g2", "g3"], "xixi-security": ["g4"]}
    attended = {
        "g1": [date(2026, 5, 3)],  # trained in May
        "g2": [date(2026, 4, 30)],  # the 31-day window ending 31 May starts 1 May: overdue
        "g3": [date(2026, 6, 2)],  # after the month: does not count
    }
    xihu, xixi = training_report(guards, attended, "2026-05", 31)
    assert xihu.trained == ("g1",) and xihu.overdue == ("g2", "g3")
    assert xihu.trained_share == pytest.approx(1 / 3)
    assert xixi.trained == () and xixi.overdue == ("g4",)
    (wider,) = training_report({"c": ["g2"]}, attended, "2026-05", 45)
    assert wider.overdue == ()  # 30 April lies within 45 days of 31 May


def test_months_are_checked() -> None:
    assert month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    with pytest.raises(ValueError):
        month_bounds("2024-13")
