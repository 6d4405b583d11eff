"""The in-process bus: subscribers are called synchronously, in publish order."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from lakeguard.bus.base import Bus, Handler, Subscription
from lakeguard.events import Event, topic_matches

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _MemorySubscription(Subscription):
    bus: InProcessBus
    patterns: tuple[str, ...]
    handler: Handler
    closed: bool = field(default=False)

    def close(self) -> None:
        self.closed = True
        self.bus._remove(self)


class InProcessBus(Bus):
    """A bus inside one process. A failing subscriber is logged and the others still run."""

    def __init__(self) -> None:
        self._subscriptions: list[_MemorySubscription] = []
        self._lock = threading.Lock()

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscriptions)
        for sub in subscribers:
            if sub.closed or not any(topic_matches(p, event.topic) for p in sub.patterns):
                continue
            try:
                sub.handler(event)
            except Exception:
                log.exception("subscriber failed on %s %s", event.topic, event.event_id)

    def subscribe(self, patterns: Sequence[str], handler: Handler) -> Subscription:
        sub = _MemorySubscription(self, tuple(patterns), handler)
        with self._lock:
            self._subscriptions.append(sub)
        return sub

    def close(self) -> None:
        with self._lock:
            for sub in self._subscriptions:
                sub.closed = True
            self._subscriptions.clear()

    def _remove(self, sub: _MemorySubscription) -> None:
        with self._lock:
            if sub in self._subscriptions:
                self._subscriptions.remove(sub)
