"""`lakeguard units seed` and `lakeguard units list`, run as a user would."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from lakeguard.cli import app
from lakeguard.config import Settings
from lakeguard.forces.models import UnitRow
from lakeguard.store.session import make_engine

runner = CliRunner()


@pytest.fixture(autouse=True)
def _own_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKEGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LAKEGUARD_DATABASE_URL", raising=False)


def test_seed_needs_a_venue() -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["units", "seed"])
    assert result.exit_code == 1 and "no venue is loaded" in result.output


def test_seed_and_list() -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["venue", "load"]).exit_code == 0
    seeded = runner.invoke(app, ["units", "seed", "--seed", "3"])
    assert seeded.exit_code == 0, seeded.output
    assert "2,000 units on westlake" in seeded.output and "1,700 security_guard" in seeded.output
    again = runner.invoke(app, ["units", "seed"])
    assert again.exit_code == 0, again.output
    engine = make_engine(Settings().effective_database_url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(UnitRow)) == 2000
    engine.dispose()
    drones = runner.invoke(app, ["units", "list", "--kind", "drone"], env={"COLUMNS": "200"})
    assert drones.exit_code == 0, drones.output
    assert "Units of westlake: 10 (showing 10)" in drones.output
    assert "UAV-01" in drones.output and "available (standby)" in drones.output
