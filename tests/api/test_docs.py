"""/docs: Swagger UI from the package's own files, with no CDN; ReDoc is off."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from lakeguard.api.app import create_app
from lakeguard.config import Settings


@pytest.fixture(scope="module")
def client() -> TestClient:
    # No lifespan: the docs read no database.
    return TestClient(create_app(Settings(database_url="sqlite://")))


def test_docs_load_swagger_ui_from_vendor(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert "/vendor/swagger-ui-dist/swagger-ui-bundle.js" in assets
    assert "/vendor/swagger-ui-dist/swagger-ui.css" in assets
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))], assets
    assert "url: '/openapi.json'" in page.text


def test_docs_follow_the_root_path() -> None:
    page = TestClient(create_app(Settings(database_url="sqlite://")), root_path="/lg").get("/docs")
    assert "/lg/vendor/swagger-ui-dist/swagger-ui-bundle.js" in page.text


def test_the_oauth2_redirect_page_is_served(client: TestClient) -> None:
    page = client.get("/docs/oauth2-redirect")
    assert page.status_code == 200 and "oauth2" in page.text.lower()


def test_redoc_is_off(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
