"""Events: every change of state is an immutable, typed event.

Each event type is a frozen pydantic model bound to one topic. Domains define their events in
their own ``events.py``; :data:`EVENT_TYPES` lists them all, explicitly, so that a payload read
back from the outbox or the bus is turned into the right type.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field


class Event(BaseModel):
    """Base of every event. ``topic`` is fixed per type; ``occurred_at`` is UTC."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: ClassVar[str]
    event_id: UUID = Field(default_factory=uuid4)
    occurred_at: datetime


def event_types() -> dict[str, type[Event]]:
    """Every event type by topic: the one explicit list, gathered from the domains."""
    from lakeguard.domain_events import EVENT_TYPES

    by_topic: dict[str, type[Event]] = {}
    for event_type in EVENT_TYPES:
        if event_type.topic in by_topic:
            raise RuntimeError(f"two event types share the topic {event_type.topic!r}")
        by_topic[event_type.topic] = event_type
    return by_topic


def event_from_payload(topic: str, payload: dict[str, Any]) -> Event:
    """Rebuild a typed event from its topic and JSON payload."""
    types = event_types()
    if topic not in types:
        raise KeyError(f"unknown event topic {topic!r}")
    return types[topic].model_validate(payload)


def topic_matches(pattern: str, topic: str) -> bool:
    """NATS-style matching: ``incident.*`` matches one level, ``incident.>`` or ``>`` any."""
    want, have = pattern.split("."), topic.split(".")
    for i, part in enumerate(want):
        if part == ">":
            return len(have) > i
        if i >= len(have) or (part != "*" and part != have[i]):
            return False
    return len(want) == len(have)
