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
