"""`lakeguard ingest rejects`: the dead letters, as a table or as JSON lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakeguard.cli import app
from lakeguard.config import Settings
from lakeguard.ingest.models import RejectRow
from lakeguard.store.session import make_engine, make_sessionmaker, transaction

runner = CliRunner()


@pytest.fixture(autouse=True)
def _own_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKEGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LAKEGUARD_DATABASE_URL", raising=False)


def test_rejects_are_listed_newest_first() -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    empty = runner.invoke(app, ["ingest", "rejects"])
    assert empty.exit_code == 0 and "no refused observations" in empty.output

    engine = make_engine(Settings().effective_database_url)
    with transaction(make_sessionmaker(engine)) as session:
        for index, sensor in enumerate(("cam-a", "cam-b")):
            session.add(
                RejectRow(
                    received_at=datetime(2026, 5, 1, 9, index, tzinfo=UTC),
                    source="http",
                    sender=f"device:{sensor}",
                    batch_index=index,
                    sensor_id=sensor,
                    event_id=f"e-{index}",
                    reason="count: Field required",
                    payload={"kind": "count"},
                )
            )
    engine.dispose()

    listed = runner.invoke(app, ["ingest", "rejects", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["sensor_id"] for r in rows] == ["cam-b", "cam-a"]
    assert rows[0]["reason"] == "count: Field required" and rows[0]["index"] == 1

    one = runner.invoke(app, ["ingest", "rejects", "--sensor", "cam-a"])
    assert one.exit_code == 0 and "cam-a" in one.output and "cam-b" not in one.output
