"""Communities and liaison groups: registration, listing, and coverage figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lakeguard.community.engine import Channel, CommunityFigures
from lakeguard.community.models import CommunityRow, LiaisonGroupRow
from lakeguard.community.seed import CommunitySpec
from lakeguard.errors import Conflict, Invalid, NotFound
from lakeguard.store.session import get_or_raise
from lakeguard.venue.loader import Scenario


class CommunityNotFound(NotFound):
    pass


class InvalidCommunity(Invalid):
    pass


class CommunityExists(Conflict):
    pass


def create_community(
    session: Session,
    *,
    venue: Scenario,
    name: str,
    station_id: str,
    registered_population: int,
    reachable_population: int,
    now: datetime,
) -> CommunityRow:
    """Register a community served by one of the venue's stations."""
    stations = sorted(s.id for s in venue.stations)
    if station_id not in stations:
        raise InvalidCommunity(f"unknown station {station_id!r}; known: {', '.join(stations)}")
    if not 0 <= reachable_population <= registered_population:
        raise InvalidCommunity("reachable population must be between 0 and the registered one")
    exists = session.scalar(
        select(CommunityRow.id).where(CommunityRow.venue_id == venue.id, CommunityRow.name == name)
    )
    if exists is not None:
        raise CommunityExists(f"a community called {name!r} exists already (id {exists})")
    row = CommunityRow(
        venue_id=venue.id,
        name=name,
        station_id=station_id,
        registered_population=registered_population,
        reachable_population=reachable_population,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_community(session: Session, *, community_id: int) -> CommunityRow:
    missing = CommunityNotFound(f"no community {community_id}")
    return get_or_raise(session, CommunityRow, community_id, missing)


def list_communities(session: Session, *, station: str | None = None) -> list[CommunityRow]:
    query = select(CommunityRow).order_by(CommunityRow.station_id, CommunityRow.name)
    if station is not None:
        query = query.where(CommunityRow.station_id == station)
    return list(session.scalars(query))


def create_group(
    session: Session,
    *,
    community_id: int,
    name: str,
    channel: Channel,
    members: int,
    notify_target: str | None,
    now: datetime,
) -> LiaisonGroupRow:
    """Register a liaison group of a community."""
    get_community(session, community_id=community_id)
    if members < 0:
        raise InvalidCommunity("members cannot be negative")
    row = LiaisonGroupRow(
        community_id=community_id,
        name=name,
        channel=Channel(channel).value,
        members=members,
        notify_target=notify_target,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def list_groups(
    session: Session, *, community_id: int | None = None, station: str | None = None
) -> list[LiaisonGroupRow]:
    query = (
        select(LiaisonGroupRow)
        .join(CommunityRow, CommunityRow.id == LiaisonGroupRow.community_id)
        .order_by(LiaisonGroupRow.id)
    )
    if community_id is not None:
        query = query.where(LiaisonGroupRow.community_id == community_id)
    if station is not None:
        query = query.where(CommunityRow.station_id == station)
    return list(session.scalars(query))


def community_figures(session: Session) -> list[CommunityFigures]:
    """Each community's populations with the groups and members it has."""
    totals = (
        select(
            LiaisonGroupRow.community_id,
            func.count(LiaisonGroupRow.id).label("groups"),
            func.sum(LiaisonGroupRow.members).label("members"),
        )
        .group_by(LiaisonGroupRow.community_id)
        .subquery()
    )
    rows = session.execute(
        select(CommunityRow, totals.c.groups, totals.c.members)
        .outerjoin(totals, totals.c.community_id == CommunityRow.id)
        .order_by(CommunityRow.station_id, CommunityRow.name)
    ).all()
    return [
        CommunityFigures(
            community_id=c.id,
            name=c.name,
            station_id=c.station_id,
            venue_id=c.venue_id,
            registered=c.registered_population,
            reachable=c.reachable_population,
            members=int(members or 0),
            groups=int(groups or 0),
        )
        for c, groups, members in rows
    ]


def store_model_communities(
    session: Session, *, venue: Scenario, specs: Sequence[CommunitySpec], now: datetime
) -> int:
    """Store the model communities and their groups; refuses a venue that has communities."""
    if session.scalar(select(CommunityRow.id).where(CommunityRow.venue_id == venue.id)):
        raise CommunityExists(f"{venue.id} has communities already; seed only an empty one")
    for spec in specs:
        community = create_community(
            session,
            venue=venue,
            name=spec.name,
            station_id=spec.station_id,
            registered_population=spec.registered_population,
            reachable_population=spec.reachable_population,
            now=now,
        )
        for group in spec.groups:
            create_group(
                session,
                community_id=community.id,
                name=group.name,
                channel=Channel(group.channel),
                members=group.members,
                notify_target=None,
                now=now,
            )
    return len(specs)
