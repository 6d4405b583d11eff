"""What every bus offers: publish an event, subscribe to topic patterns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from lakeguard.events import Event

Handler = Callable[[Event], None]


class Subscription(ABC):
    @abstractmethod
    def close(self) -> None:
        """Stop receiving events."""


class Bus(ABC):
    """Delivers published events to subscribers whose patterns match the topic."""

    @abstractmethod
    def publish(self, event: Event) -> None:
        """Deliver an event to every matching subscriber."""

    @abstractmethod
    def subscribe(self, patterns: Sequence[str], handler: Handler) -> Subscription:
        """Call ``handler`` with every event whose topic matches one of ``patterns``."""

    @abstractmethod
    def close(self) -> None:
        """Stop delivering and release connections."""
