"""The front-end libraries under /vendor: what the wheel packs, and answers when they are missing."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lakeguard.api.docs import SWAGGER_UI
from lakeguard.config import Settings
from lakeguard.web import vendor, views

WEB = Path(vendor.__file__).parent


def _packed_patterns() -> list[str]:
    return list(tomllib.loads((WEB / "vendor.toml").read_text(encoding="utf-8"))["files"])


def _loaded_by_the_pages() -> set[str]:
    found: set[str] = set()
    for page in (WEB / "static").rglob("*"):
        if page.suffix in (".html", ".js", ".css"):
            found.update(re.findall(r"/vendor/([\w./-]+)", page.read_text(encoding="utf-8")))
    return found


def test_the_pages_load_libraries_from_vendor() -> None:
    assert {"leaflet/dist/leaflet-src.esm.js", "uplot/dist/uPlot.esm.js"} <= _loaded_by_the_pages()


@pytest.mark.parametrize(
    "path",
    sorted(
        _loaded_by_the_pages()
        | {f"{SWAGGER_UI.removeprefix('/vendor/')}/{n}"
           for n in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")}
    ),
)  # fmt: skip
def test_the_wheel_packs_every_file_the_pages_and_docs_load(path: str) -> None:
    assert any(fnmatch.fnmatch(path, pattern) for pattern in _packed_patterns()), path


def test_leaflets_images_are_packed_with_its_style() -> None:
    # leaflet.css draws the layer control and markers from images/ beside it.
    assert any(p.startswith("leaflet/dist/images/") for p in _packed_patterns())


def _app_serving(monkeypatch: pytest.MonkeyPatch, folder: Path) -> FastAPI:
    from lakeguard.api.app import create_app

    monkeypatch.setattr(views, "VENDOR", folder)
    return create_app(Settings(database_url="sqlite://"))


@pytest.fixture
def packed(tmp_path: Path) -> Path:
    folder = tmp_path / "vendor"
    (folder / "leaflet" / "dist").mkdir(parents=True)
    (folder / "leaflet" / "dist" / "leaflet.css").write_text(".leaflet-pane { z-index: 400 }")
    return folder


@pytest.fixture
def no_libraries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TestClient]:
    # No lifespan: these routes read no database.
    yield TestClient(_app_serving(monkeypatch, tmp_path / "nothing-here"))


def test_a_vendor_file_is_served(monkeypatch: pytest.MonkeyPatch, packed: Path) -> None:
    client = TestClient(_app_serving(monkeypatch, packed))
    answer = client.get("/vendor/leaflet/dist/leaflet.css")
    assert answer.status_code == 200 and "leaflet-pane" in answer.text


def test_a_missing_vendor_file_is_a_404_problem(
    monkeypatch: pytest.MonkeyPatch, packed: Path
) -> None:
    answer = TestClient(_app_serving(monkeypatch, packed)).get("/vendor/leaflet/dist/nope.js")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_without_the_libraries_vendor_says_what_to_install(no_libraries: TestClient) -> None:
    answer = no_libraries.get("/vendor/leaflet/dist/leaflet.css")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["title"] == "Front-end libraries not installed"
    assert "npm ci" in body["detail"] and "wheel" in body["detail"]


def test_without_the_libraries_the_page_says_what_to_run(no_libraries: TestClient) -> None:
    answer = no_libraries.get("/")
    assert answer.status_code == 503 and "make demo" in answer.text


def test_a_packed_folder_wins_over_npms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(vendor, "PACKED", tmp_path / "vendor")
    monkeypatch.setattr(vendor, "NPM_INSTALLED", tmp_path / "node_modules")
    assert vendor.vendor_dir() == tmp_path / "node_modules"
    (tmp_path / "vendor").mkdir()
    assert vendor.vendor_dir() == tmp_path / "vendor"
