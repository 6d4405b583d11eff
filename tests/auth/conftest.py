"""An API client over a migrated database, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lakeguard.api.app import create_app
from lakeguard.config import Settings


@pytest.fixture
def client(db_engine: Engine, database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client
