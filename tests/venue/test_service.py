"""Storing scenarios: round trips, replacement and all-or-nothing loading, on every database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from lakeguard.store.session import make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario, load_scenario
from lakeguard.venue.models import AreaRow, SensorRow, VenueRow
from lakeguard.venue.service import VenueNotFound, get_scenario, get_venue, store_scenario
from tests.factories import feature, write_scenario

NOW = datetime(2024, 5, 1, 2, 40, tzinfo=UTC)


def test_a_stored_scenario_reads_back_the_same(db_engine: Engine, tiny: Scenario) -> None:
    sessions = make_sessionmaker(db_engine)
    with transaction(sessions) as session:
        store_scenario(session, scenario=tiny, now=NOW)
    with sessions() as session:
        back = get_scenario(session, venue_id="tinypark")
        venue = get_venue(session)
    assert back.config == tiny.config
    for layer in ("areas", "stations", "posts", "sensors", "network"):
        assert getattr(back, layer) == getattr(tiny, layer), layer
    assert venue.loaded_at == NOW
    assert venue.name == {"zh": "小公园", "en": "Tiny Park"}


def test_loading_again_replaces_the_venue(
    db_engine: Engine, tiny: Scenario, tmp_path: Path, tiny_files: dict[str, Any]
) -> None:
    sessions = make_sessionmaker(db_engine)
    with transaction(sessions) as session:
        store_scenario(session, scenario=tiny, now=NOW)
    tiny_files["sensors.geojson"]["features"] = tiny_files["sensors.geojson"]["features"][:1]
    feature(tiny_files, "areas.geojson", "lake")["properties"]["usable_m2"] = 20000.0
    smaller = load_scenario(write_scenario(tmp_path / "v2", tiny_files))
    with transaction(sessions) as session:
        store_scenario(session, scenario=smaller, now=NOW)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(SensorRow)) == 1
        assert session.get(AreaRow, ("tinypark", "lake")).usable_m2 == 20000.0  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(VenueRow)) == 1


def test_a_failed_load_leaves_the_previous_venue_untouched(
    db_engine: Engine, tiny: Scenario
) -> None:
    sessions = make_sessionmaker(db_engine)
    with transaction(sessions) as session:
        store_scenario(session, scenario=tiny, now=NOW)
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        store_scenario(session, scenario=tiny, now=NOW)
        raise RuntimeError("power cut half-way")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AreaRow)) == len(tiny.areas)
        assert session.scalar(select(func.count()).select_from(SensorRow)) == len(tiny.sensors)


def test_asking_for_a_venue_that_is_not_there(db_engine: Engine) -> None:
    with make_sessionmaker(db_engine)() as session:
        with pytest.raises(VenueNotFound, match="no venue is loaded"):
            get_venue(session)
        with pytest.raises(VenueNotFound, match="no venue 'elsewhere' is loaded"):
            get_venue(session, venue_id="elsewhere")
