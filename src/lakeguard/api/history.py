"""The event log over plain HTTP: ``GET /api/v1/events?after=<seq>``.

The same events the stream pushes, read in order from the outbox, for clients that poll
rather than hold a socket (a twin stepping a day as fast as it can, a batch report) and for
catching up after a gap longer than the stream replays. Each caller sees the topics the
stream would show them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from lakeguard.api.deps import DbSession, State
from lakeguard.api.stream import may_see
from lakeguard.auth.policy import Staff
from lakeguard.events import event_from_payload, topic_matches
from lakeguard.store.outbox import events_since

router = APIRouter(prefix="/api/v1", tags=["events"])

MAX_PAGE = 5000


class EventRead(BaseModel):
    seq: int
    topic: str
    event: dict[str, Any] = Field(description="the event's fields, as the stream sends them")


class EventsPage(BaseModel):
    events: list[EventRead]
    next_after: int = Field(description="the sequence number the next page starts after")


@router.get(
    "/events", response_model=EventsPage, summary="Events after a sequence number, oldest first"
)
def read_events(
    who: Staff,
    session: DbSession,
    state: State,
    after: Annotated[int, Query(ge=0, description="outbox sequence number to read after")] = 0,
    topics: Annotated[str, Query(description="comma-separated topic patterns")] = ">",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
) -> dict[str, Any]:
    """``next_after`` is where the next page starts; it moves past events the caller may not
    see as well, so a page of nothing wanted still makes progress."""
    patterns = [p.strip() for p in topics.split(",") if p.strip()] or [">"]
    rows = events_since(session, after, limit)
    events = [
        {"seq": row.id, "topic": row.topic, "event": _payload(row.topic, row.payload)}
        for row in rows
        if may_see(who, row.topic) and any(topic_matches(p, row.topic) for p in patterns)
    ]
    return {"events": events, "next_after": rows[-1].id if rows else after}


def _payload(topic: str, payload: Any) -> dict[str, Any]:
    return event_from_payload(topic, payload).model_dump(mode="json")
