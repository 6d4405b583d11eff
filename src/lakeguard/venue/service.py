"""Storing scenarios in the database and reading them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lakeguard.venue.loader import RawScenario, Scenario, feature_to_geojson, parse_scenario
from lakeguard.venue.models import (
    AreaRow,
    NetworkLineRow,
    PostRow,
    SensorRow,
    StationRow,
    VenueRow,
)
from lakeguard.venue.schema import Area, Feature, NetworkLine, Post, Sensor, Station

# Children before parents: the order rows are deleted in (and the reverse of insertion).
_FEATURE_TABLES: tuple[tuple[str, type[Any]], ...] = (
    ("sensors.geojson", SensorRow),
    ("posts.geojson", PostRow),
    ("areas.geojson", AreaRow),
    ("stations.geojson", StationRow),
    ("network.geojson", NetworkLineRow),
)


class VenueNotFound(LookupError):
    """No venue with that id, or no venue at all, is stored."""


def store_scenario(session: Session, *, scenario: Scenario, now: datetime) -> VenueRow:
    """Store a validated scenario, replacing any earlier version with the same id.

    Runs inside the caller's transaction: either the whole scenario is stored or nothing is.
    """
    for _, table in _FEATURE_TABLES:
        session.execute(delete(table).where(table.venue_id == scenario.id))
    session.execute(delete(VenueRow).where(VenueRow.id == scenario.id))
    config = scenario.config
    venue = VenueRow(
        id=scenario.id,
        name=config.name.model_dump(),
        timezone=config.timezone,
        description=config.description,
        config=config.model_dump(mode="json"),
        plans=scenario.plans.model_dump(mode="json", exclude_defaults=True)
        if scenario.plans
        else None,
        source=scenario.source,
        loaded_at=now,
    )
    session.add(venue)
    session.flush()
    for name, _ in reversed(_FEATURE_TABLES):
        for position, feature in enumerate(scenario.layer(name)):
            session.add(_row(scenario.id, position, feature))
        session.flush()
    return venue


def _row(venue_id: str, position: int, feature: Feature) -> Any:
    common = {
        "venue_id": venue_id,
        "id": feature.id,
        "position": position,
        "properties": feature_to_geojson(feature)["properties"],
        "geometry": feature.geometry,
    }
    match feature:
        case Station():
            return StationRow(**common, name=feature.name.model_dump())
        case Area():
            return AreaRow(
                **common,
                name=feature.name.model_dump(),
                domain=feature.domain.value,
                kind=feature.kind.value,
                station_id=feature.station,
                usable_m2=feature.usable_m2,
                capacity=feature.capacity,
            )
        case Post():
            return PostRow(
                **common,
                name=feature.name.model_dump(),
                kind=feature.kind,
                domain=feature.domain.value,
                station_id=feature.station,
            )
        case Sensor():
            return SensorRow(
                **common,
                name=feature.name.model_dump(),
                kind=feature.kind.value,
                area_id=feature.area,
            )
        case NetworkLine():
            return NetworkLineRow(**common, modes=[m.value for m in feature.modes])
    raise TypeError(f"not a scenario feature: {type(feature).__name__}")


def list_venues(session: Session) -> list[VenueRow]:
    """Every stored venue, most recently loaded first."""
    return list(session.scalars(select(VenueRow).order_by(VenueRow.loaded_at.desc())))


def get_venue(session: Session, *, venue_id: str | None = None) -> VenueRow:
    """A stored venue by id, or the most recently loaded one when no id is given."""
    if venue_id is not None:
        venue = session.get(VenueRow, venue_id)
        if venue is None:
            known = ", ".join(v.id for v in list_venues(session)) or "none"
            raise VenueNotFound(f"no venue {venue_id!r} is loaded (loaded: {known})")
        return venue
    venues = list_venues(session)
    if not venues:
        raise VenueNotFound("no venue is loaded; run `lakeguard venue load` first")
    return venues[0]


def get_scenario(session: Session, *, venue_id: str | None = None) -> Scenario:
    """Read a stored venue back as a validated scenario."""
    venue = get_venue(session, venue_id=venue_id)
    layers = {}
    for name, table in _FEATURE_TABLES:
        rows = session.scalars(
            select(table).where(table.venue_id == venue.id).order_by(table.position)
        )
        layers[name] = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": row.properties, "geometry": row.geometry}
                for row in rows
            ],
        }
    return parse_scenario(RawScenario(venue.config, layers, source=venue.source, plans=venue.plans))
