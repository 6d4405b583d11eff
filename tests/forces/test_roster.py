"""Adding and changing units, and storing the West Lake deployment."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from lakeguard.forces.deployment import MODEL_COMPANIES, westlake_deployment
from lakeguard.forces.models import UnitPositionRow, UnitRow, UnitStatusRow, UnitUpdate
from lakeguard.forces.roster import (
    InvalidUnit,
    UnitClash,
    create_unit,
    list_companies,
    replace_seeded_units,
    update_unit,
)
from lakeguard.forces.service import dispatchable_units, get_unit
from lakeguard.store.session import make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.service import store_scenario
from tests.forces.conftest import T0, unit_data


def test_a_new_unit_is_available_with_its_first_history_row(session: Session) -> None:
    unit = get_unit(session, unit_id="team-1")
    assert (unit.status, unit.company_id, unit.station_id, unit.home_post_id) == (
        "available",
        "acme",
        None,
        None,
    )
    assert (
        unit.capabilities == ["crowd_control"] and unit.shift == "08:00-20:00" and not unit.seeded
    )


def test_every_problem_of_a_new_unit_is_reported_at_once(session: Session, tiny: Scenario) -> None:
    data = unit_data(
        "w-p01",
        callsign="BOAT-1",
        kind="boat",
        station="north",
        home_post="pt-z",
        device_id="tracker-boat",
    )
    with pytest.raises(InvalidUnit) as caught:
        create_unit(session, venue=tiny, data=data, actor="t", now=T0)
    message = str(caught.value)
    for expected in ("mode: a boat travels by boat, not walk", "station: no station 'north'",
                     "home_post: no post 'pt-z'", "id: a unit 'w-p01' exists already",
                     "callsign: 'BOAT-1' is taken", "device_id: 'tracker-boat' is already mapped to unit 'boat-1'"):  # fmt: skip
        assert expected in message
    with pytest.raises(InvalidUnit, match="company: no security company 'nobody'"):
        create_unit(
            session,
            venue=tiny,
            data=unit_data("g-1", station=None, company="nobody"),
            actor="t",
            now=T0,
        )


@pytest.mark.parametrize("owners", [{"station": None}, {"company": "acme"}])
def test_a_unit_has_exactly_one_owner(owners: dict[str, str | None]) -> None:
    with pytest.raises(ValidationError, match="exactly one of station and company"):
        unit_data("x", **owners)


def test_update_touches_only_the_fields_given(session: Session, tiny: Scenario) -> None:
    before = get_unit(session, unit_id="w-p01")
    name = dict(before.name)
    update_unit(
        session, venue=tiny, unit_id="w-p01", data=UnitUpdate.model_validate({"shift": "24h"})
    )
    assert (before.shift, before.name, before.home_post_id) == ("24h", name, "pt-a")
    changes = {
        "name": {"zh": "新名", "en": "New name"},
        "capabilities": ["mountain", "first_aid", "mountain"],
        "home_post": "seg-north",
        "device_id": "tracker-7",
    }
    unit = update_unit(
        session, venue=tiny, unit_id="w-p01", data=UnitUpdate.model_validate(changes)
    )
    assert unit.name == {"zh": "新名", "en": "New name"}
    assert unit.capabilities == ["first_aid", "mountain"]
    assert (unit.home_post_id, unit.device_id, unit.shift) == ("seg-north", "tracker-7", "24h")
    cleared = update_unit(
        session,
        venue=tiny,
        unit_id="w-p01",
        data=UnitUpdate.model_validate({"home_post": None, "device_id": None, "capabilities": []}),
    )
    assert (cleared.home_post_id, cleared.device_id, cleared.capabilities) == (None, None, [])


@pytest.mark.parametrize(
    ("change", "refusal", "message"),
    [
        ({"home_post": "pt-nowhere"}, InvalidUnit, "home_post: no post 'pt-nowhere'"),
        (
            {"device_id": "tracker-boat"},
            UnitClash,
            "device_id: 'tracker-boat' is already mapped to unit 'boat-1'",
        ),
        ({"name": None}, InvalidUnit, "name: may not be null"),
        ({"capabilities": None}, InvalidUnit, "capabilities: may not be null"),
        ({"shift": None}, InvalidUnit, "shift: may not be null"),
    ],
)
def test_bad_updates_are_refused(
    session: Session,
    tiny: Scenario,
    change: dict[str, object],
    refusal: type[Exception],
    message: str,
) -> None:
    with pytest.raises(refusal, match=message):
        update_unit(session, venue=tiny, unit_id="w-p01", data=UnitUpdate.model_validate(change))


def test_update_schema_checks_values() -> None:
    with pytest.raises(ValidationError):
        UnitUpdate.model_validate({"shift": "25:00-26:00"})
    with pytest.raises(ValidationError):
        UnitUpdate.model_validate({"capabilities": ["laser"]})


def count(session: Session, table: type) -> int:
    return session.scalar(select(func.count()).select_from(table)) or 0


def test_seeding_replaces_the_earlier_deployment(
    db_engine: Engine, westlake: Scenario, westlake_network: TravelNetwork
) -> None:
    sessions: sessionmaker[Session] = make_sessionmaker(db_engine)
    first = westlake_deployment(westlake, np.random.default_rng(1), network=westlake_network)
    second = westlake_deployment(westlake, np.random.default_rng(2), network=westlake_network)
    with transaction(sessions) as session:
        store_scenario(session, scenario=westlake, now=T0)
        replace_seeded_units(
            session, venue=westlake, units=first, companies=MODEL_COMPANIES, actor="seed", now=T0
        )
        create_unit(session, venue=westlake, actor="t", now=T0,
                    data=unit_data("hand-1", station="yuemiao", home_post="pt-broken-bridge"))  # fmt: skip
    later = T0 + timedelta(hours=1)
    with transaction(sessions) as session:
        stored = replace_seeded_units(
            session,
            venue=westlake,
            units=second,
            companies=MODEL_COMPANIES,
            actor="seed",
            now=later,
        )
    assert stored == 2000
    with sessions() as session:
        assert count(session, UnitRow) == 2001  # the unit added by hand is kept
        assert count(session, UnitStatusRow) == 2001 and count(session, UnitPositionRow) == 2000
        assert [c.id for c in list_companies(session)] == sorted(c.id for c in MODEL_COMPANIES)
        unit = get_unit(session, unit_id=second[0].id)
        assert (unit.lon, unit.lat, unit.reported_at, unit.status) == (
            second[0].lon,
            second[0].lat,
            later,
            "available",
        )
        assert unit.status_label == second[0].label and unit.seeded
        states = dispatchable_units(session, venue=westlake, now=later, max_age_s=60)
        assert len(states) == 2001
        assert sum(s.location_source == "position" for s in states) == 2000
    # A deployment may not take over an id that a unit added by hand holds.
    with pytest.raises(UnitClash, match="hand-1"), transaction(sessions) as session:
        spec = dataclasses.replace(second[0], id="hand-1")
        replace_seeded_units(
            session, venue=westlake, units=[spec], companies=(), actor="seed", now=later
        )
