"""Broadcasts: a notice to chosen liaison groups, stations' groups or the whole venue.

The action writes the broadcast, one delivery per distinct group target and the
``notify.broadcast`` event together; the worker sends the deliveries like any other.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakeguard.community.models import CommunityRow, LiaisonGroupRow
from lakeguard.errors import Invalid, NotFound
from lakeguard.notify.events import BroadcastSent
from lakeguard.notify.models import BroadcastRow, DeliveryRow
from lakeguard.notify.rules import Directory, plan_event
from lakeguard.notify.service import add_deliveries
from lakeguard.store.outbox import emit
from lakeguard.store.session import get_or_raise

KINDS = ("anti_fraud", "closure", "weather", "other")
NO_TARGET = "no_target"


class BroadcastNotFound(NotFound):
    pass


class UnknownGroups(Invalid):
    title = "Unknown groups"

    def __init__(self, ids: Iterable[int]) -> None:
        super().__init__(
            f"no liaison groups with ids {', '.join(map(str, sorted(ids)))}", field="group_ids"
        )


class NoGroups(Invalid):
    title = "No groups chosen"


def resolve_groups(
    session: Session,
    *,
    group_ids: Sequence[int] = (),
    station_ids: Sequence[str] = (),
    whole_venue: bool = False,
    venue_id: str | None = None,
) -> list[LiaisonGroupRow]:
    """The groups a choice of groups, stations or the whole venue stands for, each once."""
    query = select(LiaisonGroupRow).join(
        CommunityRow, LiaisonGroupRow.community_id == CommunityRow.id
    )
    if venue_id is not None:
        query = query.where(CommunityRow.venue_id == venue_id)
    found: dict[int, LiaisonGroupRow] = {}
    if whole_venue:
        found.update((g.id, g) for g in session.scalars(query))
    if station_ids:
        chosen = query.where(CommunityRow.station_id.in_(station_ids))
        found.update((g.id, g) for g in session.scalars(chosen))
    if group_ids:
        named = {g.id: g for g in session.scalars(query.where(LiaisonGroupRow.id.in_(group_ids)))}
        if missing := set(group_ids) - named.keys():
            raise UnknownGroups(missing)
        found.update(named)
    return [found[i] for i in sorted(found)]


def create_broadcast(
    session: Session,
    *,
    kind: str,
    title: str,
    body: str,
    group_ids: Sequence[int] = (),
    station_ids: Sequence[str] = (),
    whole_venue: bool = False,
    venue_id: str | None = None,
    known_targets: Iterable[str],
    actor: str,
    now: datetime,
) -> BroadcastRow:
    """Store a broadcast with its deliveries and event, in the caller's transaction."""
    groups = resolve_groups(
        session,
        group_ids=group_ids,
        station_ids=station_ids,
        whole_venue=whole_venue,
        venue_id=venue_id,
    )
    if not groups:
        raise NoGroups("the choice names no liaison group")
    known = set(known_targets)
    targets = list(dict.fromkeys(g.notify_target for g in groups if g.notify_target in known))
    event_id = uuid.uuid4()
    row = BroadcastRow(
        kind=kind,
        title=title,
        body=body,
        selection={
            "group_ids": list(group_ids),
            "station_ids": list(station_ids),
            "whole_venue": whole_venue,
        },
        groups=[{"group_id": g.id, "name": g.name, "target": g.notify_target} for g in groups],
        event_id=str(event_id),
        created_by=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    event = BroadcastSent(
        event_id=event_id,
        occurred_at=now,
        broadcast_id=row.id,
        kind=kind,
        title=title,
        body=body,
        targets=[t for t in targets if t],
        actor=actor,
    )
    add_deliveries(
        session, event, plan_event(event, Directory()).sends, known_targets=known, now=now
    )
    emit(session, event)
    return row


def get_broadcast(session: Session, broadcast_id: int) -> BroadcastRow:
    missing = BroadcastNotFound(f"no broadcast {broadcast_id}")
    return get_or_raise(session, BroadcastRow, broadcast_id, missing)


def list_broadcasts(session: Session, *, limit: int = 50) -> list[BroadcastRow]:
    return list(session.scalars(select(BroadcastRow).order_by(BroadcastRow.id.desc()).limit(limit)))


def group_statuses(session: Session, row: BroadcastRow) -> list[dict[str, Any]]:
    """Each group of a broadcast with the status of the delivery to its target."""
    deliveries = {
        d.target: d
        for d in session.scalars(select(DeliveryRow).where(DeliveryRow.event_id == row.event_id))
    }
    statuses = []
    for group in row.groups:
        delivery = deliveries.get(group["target"] or "")
        statuses.append(
            {
                **group,
                "status": delivery.status if delivery else NO_TARGET,
                "attempts": delivery.attempts if delivery else 0,
                "sent_at": delivery.sent_at.isoformat() if delivery and delivery.sent_at else None,
                "last_error": delivery.last_error if delivery else "",
            }
        )
    return statuses
