"""The `lakeguard` command, run as a user would (with its own data folder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lakeguard.cli import app
from tests.factories import feature, write_scenario

runner = CliRunner()


@pytest.fixture(autouse=True)
def _own_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKEGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LAKEGUARD_DATABASE_URL", raising=False)


def test_check_passes_on_a_good_scenario(tiny_folder: Path) -> None:
    result = runner.invoke(app, ["venue", "check", str(tiny_folder)])
    assert result.exit_code == 0, result.output
    assert "tinypark" in result.output and "no problems" in result.output


def test_check_lists_problems_and_fails(tmp_path: Path, tiny_files: dict[str, Any]) -> None:
    feature(tiny_files, "areas.geojson", "avenue")["properties"]["station"] = "nowhere"
    folder = write_scenario(tmp_path / "bad", tiny_files)
    result = runner.invoke(app, ["venue", "check", str(folder)])
    assert result.exit_code == 1
    assert "areas.geojson: feature 0 (avenue): station: unknown station 'nowhere'" in result.output
    assert "nothing was loaded" in result.output


def test_load_needs_the_schema_first(tiny_folder: Path) -> None:
    result = runner.invoke(app, ["venue", "load", str(tiny_folder)])
    assert result.exit_code == 1
    assert "run `lakeguard db upgrade`" in result.output


def test_upgrade_load_show(tiny_folder: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["venue", "show", "--json"])
    assert result.exit_code == 1 and "no venue is loaded" in result.output

    load = runner.invoke(app, ["venue", "load", str(tiny_folder)])
    assert load.exit_code == 0, load.output
    show = runner.invoke(app, ["venue", "show", "--json"])
    assert show.exit_code == 0, show.output
    summary = json.loads(show.stdout)
    assert summary["id"] == "tinypark"
    assert (summary["points"], summary["segments"], summary["areas"], summary["hotspots"]) == (
        1,
        3,
        3,
        1,
    )
    assert summary["domains"] == ["air", "land", "water"]
    assert summary["capacity_total"] == 560 + 1000
    assert summary["network_nodes"] > 0 and summary["network_edges"] > 0

    table = runner.invoke(app, ["venue", "show"])
    assert "Tiny Park" in table.output


def test_coverage_prints_each_hotspot(tiny_folder: Path) -> None:
    result = runner.invoke(
        app, ["venue", "coverage", "--seconds", "60", "--path", str(tiny_folder), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["seconds"] == 60
    assert [h["area"] for h in report["hotspots"]] == ["avenue"]
    assert 0.4 < report["hotspots"][0]["share"] < 0.7
    table = runner.invoke(app, ["venue", "coverage", "--path", str(tiny_folder)])
    assert "Avenue" in table.output and "%" in table.output


def _record_uvicorn_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    return calls


def test_serve_creates_the_embedded_schema_and_binds_where_told(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from lakeguard.store.migrate import is_up_to_date
    from lakeguard.store.session import make_engine

    calls = _record_uvicorn_run(monkeypatch)
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert [(c["host"], c["port"]) for c in calls] == [("0.0.0.0", 8123)]
    assert "http://0.0.0.0:8123/" in result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'lakeguard.sqlite3'}")
    assert is_up_to_date(engine)
    engine.dispose()


def test_serve_binds_to_the_settings_without_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEGUARD_HOST", "127.0.0.2")
    monkeypatch.setenv("LAKEGUARD_PORT", "8765")
    calls = _record_uvicorn_run(monkeypatch)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert [(c["host"], c["port"]) for c in calls] == [("127.0.0.2", 8765)]


def test_serve_refuses_a_port_out_of_range() -> None:
    result = runner.invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2


def test_serve_leaves_a_postgresql_schema_to_db_upgrade(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the embedded database is migrated by serve itself")
    monkeypatch.setenv("LAKEGUARD_DATABASE_URL", database_url)
    calls = _record_uvicorn_run(monkeypatch)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1
    assert "run `lakeguard db upgrade`" in result.output
    assert calls == []


def test_report_patrol_names_a_bad_date() -> None:
    result = runner.invoke(app, ["report", "patrol", "--date", "1 May"])
    assert result.exit_code == 2
    assert "--date: expected YYYY-MM-DD, got '1 May'" in result.output


def test_report_patrol_on_a_day_without_units(tiny_folder: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    loaded = runner.invoke(app, ["venue", "load", str(tiny_folder)])
    assert loaded.exit_code == 0, loaded.output
    env = {"LAKEGUARD_SCENARIO_PATH": str(tiny_folder)}
    result = runner.invoke(app, ["report", "patrol", "--date", "2024-05-01", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"date": "2024-05-01", "units": []}
