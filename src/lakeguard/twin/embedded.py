"""An embedded platform for a batch twin: a fresh SQLite database, the venue and its units,
the full API in-process on a clock the twin owns.

Calls go through the API's routing, validation, policies and services exactly as over a
network; only the socket is left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np

from lakeguard.api.app import create_app
from lakeguard.auth import service as users
from lakeguard.auth import tokens
from lakeguard.auth.roles import Role
from lakeguard.clock import ManualClock
from lakeguard.config import Settings
from lakeguard.forces.deployment import MODEL_COMPANIES, UnitSpec, westlake_deployment
from lakeguard.forces.roster import replace_seeded_units
from lakeguard.store.migrate import upgrade
from lakeguard.store.session import make_engine, make_sessionmaker, transaction
from lakeguard.twin.api import TwinApi
from lakeguard.twin.driver import TWIN_POSITION_MAX_AGE_S
from lakeguard.twin.transport import InProcessTransport
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.service import store_scenario

TWIN_USER = "twin"
DATABASE_FILE = "twin.sqlite"


@dataclass(frozen=True)
class Embedded:
    api: TwinApi
    clock: ManualClock
    database_url: str


def twin_token(sessions_url: str, *, now: datetime) -> str:
    """A token for the twin's own user (admin: it reports incidents, dispatches, and feeds
    sensor observations as a vendor adapter would), creating the user if needed."""
    engine = make_engine(sessions_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            user = users.get_by_username(session, username=TWIN_USER)
            if user is None:
                user = users.create(
                    session,
                    username=TWIN_USER,
                    roles=[Role.ADMIN],
                    password=None,
                    actor="lakeguard twin",
                    now=now,
                )
            _, secret = tokens.issue(
                session,
                user=user,
                scopes=["api", "observations"],
                label="digital twin",
                actor="lakeguard twin",
                now=now,
            )
        return secret
    finally:
        engine.dispose()


@contextmanager
def embedded_platform(
    folder: Path,
    scenario: Scenario,
    network: TravelNetwork,
    *,
    start: datetime,
    units: Sequence[UnitSpec] | None = None,
    seed: int = 1,
) -> Iterator[Embedded]:
    """A fresh platform in ``folder`` holding the venue and the model deployment (or
    ``units``), serving the API in-process on a manual clock set to ``start``."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / DATABASE_FILE
    database.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        # Records start at the twin day's start: a unit's seeded position must be older than
        # the first report its tracker sends, or that report would be taken as arriving late.
        now = start
        specs = (
            units
            if units is not None
            else westlake_deployment(scenario, np.random.default_rng(seed), network=network)
        )
        with transaction(make_sessionmaker(engine)) as session:
            store_scenario(session, scenario=scenario, now=now)
            replace_seeded_units(
                session,
                venue=scenario,
                units=list(specs),
                companies=MODEL_COMPANIES,
                actor="lakeguard twin",
                now=now,
            )
    finally:
        engine.dispose()
    token = twin_token(url, now=datetime.now(UTC))
    clock = ManualClock(start)
    # Settings given here win over the environment: a batch day touches no broker or robot.
    settings = Settings(
        database_url=url,
        data_dir=folder,
        mqtt_url="",
        notify_targets=[],
        position_max_age_s=TWIN_POSITION_MAX_AGE_S,
        # The twin drives the clock and sends data every step; a tick on the wall clock would
        # make a replayed day depend on when it fired.
        crowd_tick_s=0,
    )
    transport = InProcessTransport(create_app(settings, clock=clock))
    try:
        with httpx.Client(transport=transport, base_url="http://embedded.lakeguard") as client:
            yield Embedded(TwinApi(client, token), clock, url)
    finally:
        transport.close()
