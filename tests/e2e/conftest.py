"""Browser tests: a real LakeGuard server on a free port, driven by Debian's Chromium.

The server runs uvicorn in a thread over a temporary SQLite database holding the West Lake
scenario and part of its model deployment. It can be stopped and started again on the same
port, which is how the stale-stream banner is tested: the socket really goes away.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn

from lakeguard.api.app import create_app
from lakeguard.auth import service as users
from lakeguard.auth import tokens
from lakeguard.auth.roles import Role
from lakeguard.config import Settings
from lakeguard.forces.deployment import MODEL_COMPANIES, westlake_deployment
from lakeguard.forces.roster import replace_seeded_units
from lakeguard.store.migrate import upgrade
from lakeguard.store.session import make_engine, make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.service import store_scenario
from lakeguard.web.views import VENDOR

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "west lake at dawn"


def _why_not() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        return f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does it)"
    if not VENDOR.is_dir():
        return f"the front-end libraries are not installed in {VENDOR.name} (make installs them)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _why_not()
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn in a thread; ``stop`` and ``start`` again keep the port and the database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            create_app(Settings(database_url=self.database_url)),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        self._wait(lambda: self._server is not None and self._server.started, "start")

    def stop(self) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the server did not stop"

    def _wait(self, ready: Any, what: str) -> None:
        # A condition polled against a deadline: the server thread has no event to wait on.
        deadline = time.monotonic() + 60
        while not ready():
            if self._thread is not None and not self._thread.is_alive():
                raise RuntimeError(f"the server thread died before it could {what}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server did not {what} within 60 s")
            time.sleep(0.05)


@dataclass
class World:
    """The running server, its people and a bearer-token API client for acting off-page."""

    server: LiveServer
    engine: Any
    dispatcher: str
    auditor: str
    officer: str
    officer_unit: str
    api: httpx.Client

    @property
    def url(self) -> str:
        return self.server.url


def _unit_subset(specs: list[Any]) -> list[Any]:
    """Every specialist and every 20th officer or guard: enough to dispatch, quick to load."""
    common = ("officer", "security_guard", "auxiliary")
    specialists = [s for s in specs if s.kind.value not in common]
    return specialists + [s for s in specs if s.kind.value in common][::20]


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, westlake: Scenario, westlake_network: TravelNetwork
) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'lakeguard.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    specs = _unit_subset(
        westlake_deployment(westlake, np.random.default_rng(1), network=westlake_network)
    )
    officer_unit = next(s.id for s in specs if s.kind.value == "officer")
    with transaction(make_sessionmaker(engine)) as session:
        store_scenario(session, scenario=westlake, now=now)
        replace_seeded_units(
            session, venue=westlake, units=specs, companies=MODEL_COMPANIES, actor="test", now=now
        )
        for name, roles, unit in (
            ("lin", [Role.DISPATCHER], None),
            ("zhou", [Role.AUDITOR], None),
            ("wang", [Role.FIELD_OFFICER], officer_unit),
        ):
            users.create(
                session, username=name, roles=roles, password=PASSWORD, unit_id=unit,
                actor="test", now=now,
            )  # fmt: skip
        bot = users.create(
            session, username="desk", roles=[Role.DISPATCHER], password=None, actor="test", now=now
        )
        _, secret = tokens.issue(session, user=bot, scopes=["api"], actor="test", now=now)
    server = LiveServer(url)
    server.start()
    client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {secret}"})
    try:
        yield World(server, engine, "lin", "zhou", "wang", officer_unit, client)
    finally:
        client.close()
        server.stop()
        engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def log_in(page: Any, url: str, username: str) -> None:
    page.goto(url)
    page.fill("#login input[name=username]", username)
    page.fill("#login input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
