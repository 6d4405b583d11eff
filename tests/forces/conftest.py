"""Fixtures for forces: the tiny park stored in a database, and unit builders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lakeguard.forces.models import UnitCreate
from lakeguard.forces.roster import create_unit, put_company
from lakeguard.store.session import make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario
from lakeguard.venue.service import store_scenario

T0 = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)


def unit_data(unit_id: str = "w-p01", **fields: Any) -> UnitCreate:
    """A walking officer of the tiny park's west station at corner A, unless told otherwise."""
    data: dict[str, Any] = {
        "id": unit_id,
        "callsign": unit_id.upper(),
        "name": {"zh": f"民警 {unit_id}", "en": f"Officer {unit_id}"},
        "kind": "officer",
        "mode": "walk",
        "capabilities": ["first_aid"],
        "station": "west",
        "home_post": "pt-a",
        "shift": "08:00-20:00",
    }
    data.update(fields)
    return UnitCreate.model_validate(data)


@pytest.fixture
def sessions(db_engine: Engine, tiny: Scenario) -> sessionmaker[Session]:
    """Sessions on a database holding the tiny park, a security company and three units."""
    factory = make_sessionmaker(db_engine)
    with transaction(factory) as session:
        store_scenario(session, scenario=tiny, now=T0)
        put_company(session, company_id="acme", name={"zh": "安保", "en": "Acme Security"})
        create_unit(session, venue=tiny, data=unit_data("w-p01"), actor="test", now=T0)
        create_unit(
            session,
            venue=tiny,
            data=unit_data(
                "boat-1", kind="boat", mode="boat", capabilities=["water_rescue"],
                station="east", home_post="seg-lake", device_id="tracker-boat",
            ),
            actor="test",
            now=T0,
        )  # fmt: skip
        create_unit(
            session,
            venue=tiny,
            data=unit_data(
                "team-1", kind="team", station=None, company="acme", home_post=None,
                capabilities=["crowd_control"],
            ),
            actor="test",
            now=T0,
        )  # fmt: skip
    return factory


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session
