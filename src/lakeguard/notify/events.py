"""Notify events."""

from __future__ import annotations

from typing import ClassVar

from lakeguard.events import Event


class BroadcastSent(Event):
    """A notice chosen for groups, stations or the whole venue; the worker sends it."""

    topic: ClassVar[str] = "notify.broadcast"
    broadcast_id: int
    kind: str
    title: str
    body: str
    targets: list[str]
    actor: str
