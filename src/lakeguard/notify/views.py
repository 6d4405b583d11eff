"""Notify endpoints: targets (secrets masked), deliveries, broadcasts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lakeguard.api.deps import DbSession, State, unit_of_work
from lakeguard.api.state import AppState
from lakeguard.auth.policy import Dispatcher, Overseer, Watcher
from lakeguard.notify import broadcasts
from lakeguard.notify.models import (
    BroadcastDetailRead,
    BroadcastRow,
    BroadcastsRead,
    DeliveriesRead,
    DeliveryRow,
    DeliveryStatus,
    TargetsRead,
)
from lakeguard.notify.rules import RULES
from lakeguard.notify.service import list_deliveries
from lakeguard.notify.targets import TargetConfig, targets_by_name

router = APIRouter(prefix="/api/v1", tags=["notify"])


class BroadcastCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["anti_fraud", "closure", "weather", "other"]
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=2000)
    group_ids: list[int] = Field(default_factory=list, description="liaison groups by id")
    station_ids: list[str] = Field(default_factory=list, description="every group of a station")
    whole_venue: bool = Field(False, description="every group of the venue")

    @model_validator(mode="after")
    def _chosen(self) -> BroadcastCreate:
        if not (self.group_ids or self.station_ids or self.whole_venue):
            raise ValueError("choose group_ids, station_ids or whole_venue")
        return self


def _targets(state: AppState) -> dict[str, TargetConfig]:
    settings = state.settings
    return targets_by_name(settings.notify_targets, settings.notify_targets_file)


def delivery_json(row: DeliveryRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "event_id": row.event_id,
        "topic": row.topic,
        "target": row.target,
        "title": row.title,
        "severity": row.severity,
        "status": row.status,
        "attempts": row.attempts,
        "created_at": row.created_at.isoformat(),
        "next_attempt_at": row.next_attempt_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "message_id": row.message_id,
        "last_error": row.last_error,
    }


def broadcast_json(row: BroadcastRow, groups: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": row.id,
        "kind": row.kind,
        "title": row.title,
        "body": row.body,
        "selection": row.selection,
        "event_id": row.event_id,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
    }
    if groups is not None:
        found["groups"] = groups
    return found


@router.get(
    "/notify/targets",
    response_model=TargetsRead,
    summary="Configured targets, secrets as their last four",
)
def get_targets(who: Overseer, state: State) -> dict[str, Any]:
    return {
        "targets": [t.listing() for t in _targets(state).values()],
        "rules": [{"name": r.name, "topic": r.topic, "description": r.description} for r in RULES],
    }


@router.get(
    "/notify/deliveries",
    response_model=DeliveriesRead,
    summary="Deliveries, newest first (status=dead: dead letters)",
)
def get_deliveries(
    who: Watcher,
    session: DbSession,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    target: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    rows = list_deliveries(session, status=status, target=target, limit=limit)
    return {"deliveries": [delivery_json(r) for r in rows]}


@router.post(
    "/broadcasts",
    status_code=201,
    response_model=BroadcastDetailRead,
    summary="Broadcast a notice to liaison groups",
)
def post_broadcast(
    body: BroadcastCreate, who: Dispatcher, state: State, session: DbSession
) -> dict[str, Any]:
    with unit_of_work(session):
        row = broadcasts.create_broadcast(
            session,
            kind=body.kind,
            title=body.title,
            body=body.body,
            group_ids=body.group_ids,
            station_ids=body.station_ids,
            whole_venue=body.whole_venue,
            venue_id=state.venue.scenario.id if state.venue is not None else None,
            known_targets=_targets(state),
            actor=who.subject,
            now=datetime.now(UTC),
        )
    return broadcast_json(row, broadcasts.group_statuses(session, row))


@router.get("/broadcasts", response_model=BroadcastsRead, summary="Broadcasts, newest first")
def get_broadcasts(
    who: Watcher, session: DbSession, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> dict[str, Any]:
    return {
        "broadcasts": [broadcast_json(r) for r in broadcasts.list_broadcasts(session, limit=limit)]
    }


@router.get(
    "/broadcasts/{broadcast_id}",
    response_model=BroadcastDetailRead,
    summary="A broadcast and each group's delivery status",
)
def get_broadcast(broadcast_id: int, who: Watcher, session: DbSession) -> dict[str, Any]:
    row = broadcasts.get_broadcast(session, broadcast_id)
    return broadcast_json(row, broadcasts.group_statuses(session, row))
