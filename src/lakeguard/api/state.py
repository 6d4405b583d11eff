"""What the API process holds in memory: the database and the active venue's engines."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lakeguard.bus.base import Bus
from lakeguard.bus.memory import InProcessBus
from lakeguard.clock import Clock, WallClock
from lakeguard.config import Settings
from lakeguard.incidents.gazetteer import Gazetteer
from lakeguard.incidents.service import VenueContext
from lakeguard.venue.checks import build_network
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.service import get_scenario
from lakeguard.venue.summary import venue_summary

if TYPE_CHECKING:
    from lakeguard.crowd.cycle import CrowdRuntime
    from lakeguard.ingest.service import Ingestor


@dataclass(frozen=True)
class ActiveVenue:
    """A stored venue with its travel network, built once when the server starts."""

    scenario: Scenario
    network: TravelNetwork
    summary: dict[str, Any]
    context: VenueContext

    @classmethod
    def from_database(cls, factory: sessionmaker[Session]) -> ActiveVenue:
        with factory() as session:
            scenario = get_scenario(session)
        network = build_network(scenario.network, scenario.config, scenario.areas)
        context = VenueContext(scenario, network, Gazetteer.from_scenario(scenario))
        return cls(scenario, network, venue_summary(scenario, network), context)


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    venue: ActiveVenue | None = None
    crowd: CrowdRuntime | None = None  # the crowd monitor, with a venue
    ingest: Ingestor | None = None  # the ingest path into the crowd monitor, with a venue
    bus: Bus = field(default_factory=InProcessBus)
    clock: Clock = field(default_factory=WallClock)  # the venue's time (a twin runs its own)
    # Set after a write so the relay delivers at once instead of at its next round.
    outbox_written: asyncio.Event = field(default_factory=asyncio.Event)
