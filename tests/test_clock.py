"""The venue clock: wall, scaled for a live twin, manual for a batch twin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from lakeguard.clock import ManualClock, ScaledClock, WallClock, clock_from_settings
from lakeguard.config import Settings

START = datetime(2026, 10, 2, 6, 0, tzinfo=timezone(timedelta(hours=8)))


def test_a_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(START)
    assert clock.now() == START and clock.now().tzinfo == UTC
    clock.set(START + timedelta(minutes=5))
    assert clock.now() == START + timedelta(minutes=5)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(START)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2026, 10, 2, 7, 0))


def test_a_scaled_clock_runs_faster_than_the_wall(monkeypatch: pytest.MonkeyPatch) -> None:
    wall = [1000.0]
    monkeypatch.setattr("lakeguard.clock.time.monotonic", lambda: wall[0])
    clock = ScaledClock(START, 60)
    assert clock.now() == START
    wall[0] += 2.5
    assert clock.now() == START + timedelta(seconds=150)
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(START, 0)


def test_settings_choose_the_clock() -> None:
    assert isinstance(clock_from_settings(None, 1.0), WallClock)
    scaled = clock_from_settings(START, 60)
    assert isinstance(scaled, ScaledClock) and scaled.speed == 60
    assert Settings(clock_start=START, clock_speed=60).clock_speed == 60
    with pytest.raises(ValidationError, match="needs LAKEGUARD_CLOCK_START"):
        Settings(clock_speed=60)
