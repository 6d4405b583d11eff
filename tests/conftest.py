"""Shared fixtures: scenario folders and databases (SQLite always, PostgreSQL when asked)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from lakeguard.config import bundled_scenario
from lakeguard.store.migrate import upgrade
from lakeguard.store.session import make_engine
from lakeguard.venue.checks import build_network
from lakeguard.venue.loader import Scenario, load_scenario
from lakeguard.venue.network import TravelNetwork
from tests.factories import tiny_scenario, write_scenario

POSTGRES_ENV = "LAKEGUARD_TEST_DATABASE_URL"


@pytest.fixture
def tiny_files() -> dict[str, Any]:
    return tiny_scenario()


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    return write_scenario(tmp_path / "tinypark")


@pytest.fixture(scope="session")
def tiny() -> Scenario:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return load_scenario(write_scenario(Path(folder) / "tinypark"))


@pytest.fixture(scope="session")
def tiny_network(tiny: Scenario) -> TravelNetwork:
    return build_network(tiny.network, tiny.config, tiny.areas)


@pytest.fixture(scope="session")
def westlake() -> Scenario:
    return load_scenario(bundled_scenario())


@pytest.fixture(scope="session")
def westlake_network(westlake: Scenario) -> TravelNetwork:
    return build_network(westlake.network, westlake.config, westlake.areas)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh schema in the PostgreSQL under test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests are off; set {POSTGRES_ENV} to run them")
    schema = f"lg_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    """A migrated database."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
