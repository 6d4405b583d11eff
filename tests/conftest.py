"""Shared fixtures: scenario folders and databases (SQLite always, PostgreSQL when asked)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text, update
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

Filler = Callable[[Engine], Any]


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


class DatabaseTemplates:
    """Databases made once per session and copied for each test that asks for one.

    Migrating through every revision, or storing all of West Lake, costs far more than copying
    the result: a SQLite file is copied, a PostgreSQL database is created from a template
    database. Each test still gets a database of its own.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.stored: dict[str, Any] = {}  # what filling each template returned
        self._sqlite: dict[str, Path] = {}
        self._postgres: dict[str, str] = {}
        self._admin: Engine | None = None

    def sqlite_copy(self, content: str, fill: Filler, target: Path) -> None:
        if content not in self._sqlite:
            path = self.folder / f"{content}.sqlite3"
            self._fill(content, fill, f"sqlite:///{path}")
            self._sqlite[content] = path
        shutil.copyfile(self._sqlite[content], target)

    def postgres_database(self, base: str, content: str | None, fill: Filler) -> str:
        """A new database on the server of ``base``: empty, or a copy of a template."""
        admin = self._admin_engine(base)
        template = ""
        if content is not None:
            if content not in self._postgres:
                name = self._create_postgres(admin, "")
                self._fill(content, fill, _with_database(base, name))
                self._postgres[content] = name
            template = self._postgres[content]
        return self._create_postgres(admin, template)

    def drop_postgres(self, base: str, name: str) -> None:
        with self._admin_engine(base).connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self, base: str | None) -> None:
        if base and self._admin is not None:
            for name in self._postgres.values():
                self.drop_postgres(base, name)
            self._admin.dispose()

    def _fill(self, content: str, fill: Filler, url: str) -> None:
        engine = make_engine(url)
        try:
            upgrade(engine)
            self.stored[content] = fill(engine)
        finally:
            engine.dispose()  # a PostgreSQL template must have no connections to be copied

    def _admin_engine(self, base: str) -> Engine:
        if self._admin is None:
            self._admin = create_engine(base, isolation_level="AUTOCOMMIT")
        return self._admin

    @staticmethod
    def _create_postgres(admin: Engine, template: str) -> str:
        name = f"lg_test_{uuid.uuid4().hex[:12]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return name


def _with_database(base: str, name: str) -> str:
    return make_url(base).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseTemplates]:
    templates = DatabaseTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.close(os.environ.get(POSTGRES_ENV))


def _content_wanted(request: pytest.FixtureRequest) -> tuple[str | None, Filler]:
    """What the test's database should hold (West Lake, the schema alone, or nothing), and
    what fills a migrated template with it."""
    if "westlake_db" in request.fixturenames:
        westlake = request.getfixturevalue("westlake")
        network = request.getfixturevalue("westlake_network")
        return "westlake", lambda engine: store_westlake(engine, westlake, network)
    if "db_engine" in request.fixturenames:
        return "migrated", lambda engine: None
    return None, lambda engine: None


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, database_templates: DatabaseTemplates
) -> Iterator[str]:
    """A database of the test's own: a SQLite file, or a fresh database in the PostgreSQL under
    test. Empty, unless the test uses ``db_engine`` (then migrated) or ``westlake_db``."""
    content, fill = _content_wanted(request)
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        if content is not None:
            database_templates.sqlite_copy(content, fill, path)
        yield f"sqlite:///{path}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests are off; set {POSTGRES_ENV} to run them")
    name = database_templates.postgres_database(base, content, fill)
    try:
        yield _with_database(base, name)
    finally:
        database_templates.drop_postgres(base, name)


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    """A migrated database (a copy of the session's migrated template)."""
    engine = make_engine(database_url)
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
def westlake_db(db_engine: Engine, database_templates: DatabaseTemplates) -> list[Any]:
    """West Lake and a subset of its units stored in ``db_engine``; the unit specs stored.

    The database is a copy of West Lake stored once per session; its seeded positions are
    dated now again, so that none has gone stale since the template was made.
    """
    _report_seeded_positions_now(db_engine)
    return list(database_templates.stored["westlake"])


@pytest.fixture
def westlake_world(
    db_engine: Engine, database_url: str, westlake_db: list[Any]
) -> Iterator[dict[str, Any]]:
    """The API serving West Lake with a subset of its units: client, engine, unit specs."""
    from lakeguard.api.app import create_app

    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield {"client": client, "engine": db_engine, "specs": westlake_db}


def _report_seeded_positions_now(engine: Engine) -> None:
    from lakeguard.forces.models import UnitPositionRow, UnitRow

    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(update(UnitRow).values(reported_at=now))
        connection.execute(
            update(UnitPositionRow)
            .where(UnitPositionRow.source == "seed")
            .values(reported_at=now, received_at=now)
        )
