"""Shared fixtures: scenario folders and databases (SQLite always, PostgreSQL when asked)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from lakeguard.config import Settings, bundled_scenario
from lakeguard.store.migrate import upgrade
from lakeguard.store.session import make_engine, make_sessionmaker, transaction
from lakeguard.venue.checks import build_network
from lakeguard.venue.loader import Scenario, load_scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.service import store_scenario
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


def unit_subset(specs: list[Any]) -> list[Any]:
    """Every specialist and every 20th other unit: enough to dispatch, quick to store."""
    specialists = [
        s for s in specs if s.kind.value not in ("officer", "security_guard", "auxiliary")
    ]
    others = [s for s in specs if s not in specialists][::20]
    return specialists + others


def store_westlake(db_engine: Engine, westlake: Scenario, network: TravelNetwork) -> list[Any]:
    """Store the West Lake scenario and a subset of its units; the unit specs stored."""
    from lakeguard.forces.deployment import MODEL_COMPANIES, westlake_deployment
    from lakeguard.forces.roster import replace_seeded_units

    now = datetime.now(UTC)
    specs = unit_subset(westlake_deployment(westlake, np.random.default_rng(1), network=network))
    with transaction(make_sessionmaker(db_engine)) as session:
        store_scenario(session, scenario=westlake, now=now)
        replace_seeded_units(
            session, venue=westlake, units=specs, companies=MODEL_COMPANIES, actor="test", now=now
        )
    return specs


@pytest.fixture
def westlake_world(
    db_engine: Engine, database_url: str, westlake: Scenario, westlake_network: TravelNetwork
) -> Iterator[dict[str, Any]]:
    """The API serving West Lake with a subset of its units: client, engine, unit specs."""
    from lakeguard.api.app import create_app

    specs = store_westlake(db_engine, westlake, westlake_network)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield {"client": client, "engine": db_engine, "specs": specs}
