"""`lakeguard demo`: what it refuses before it starts anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakeguard.config import Settings
from lakeguard.demo import DemoError, run_demo


def _run(tmp_path: Path, **changes: object) -> None:
    options: dict[str, object] = {
        "speed": 60.0,
        "start": "10:00",
        "visitors": 1000,
        "seed": 1,
        "resume": False,
        "twin": False,
        "auto_dispatch": True,
        "prepare": lambda fresh, begin: pytest.fail("nothing should be prepared"),
    }
    options.update(changes)
    run_demo(Settings(data_dir=tmp_path), **options)  # type: ignore[arg-type]


def test_resuming_needs_a_day_to_resume(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="nothing to resume"):
        _run(tmp_path, resume=True)


def test_a_start_time_must_be_a_time_of_day(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="--start '25:00'"):
        _run(tmp_path, start="25:00")
