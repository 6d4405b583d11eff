"""Where ingest hands the observations it has stored: a sink that the crowd side provides."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from sqlalchemy.orm import Session

from lakeguard.ingest.schema import Observation


class ObservationSink(Protocol):
    """Takes the new observations of each ingest cycle, in the cycle's own transaction."""

    def cycle(self) -> AbstractContextManager[Session]:
        """One ingest cycle: a transaction run one at a time, left only once it has committed.

        If the block fails the transaction is rolled back and the sink forgets whatever it
        took during it, so its memory never holds what was not stored.
        """
        ...

    def take(self, session: Session, observations: Sequence[Observation]) -> None:
        """Fold newly stored observations, oldest first, into the sink's state."""
        ...
