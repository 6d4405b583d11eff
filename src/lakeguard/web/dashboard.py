"""What the dashboard loads: one snapshot of the command room, and today's header figures.

The snapshot carries the outbox sequence number read *before* its data, so a page that applies
every event after that number on top of it misses nothing; events it already reflects change
nothing when applied again, because each sets a state rather than a difference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from lakeguard.api.state import ActiveVenue, AppState
from lakeguard.crowd import alert_actions
from lakeguard.crowd.models import AlertRead, EstimateRead, PlanStepRead
from lakeguard.forces import service as units
from lakeguard.forces.engine import post_locations
from lakeguard.forces.models import UnitRead
from lakeguard.incidents import metrics, queries
from lakeguard.incidents import service as incidents
from lakeguard.store.outbox import head_seq
from lakeguard.web.models import (
    Bilingual,
    BoardAlertRead,
    BoardStepRead,
    BoardUnitRead,
    ClockRead,
    FigureRead,
    FiguresRead,
    SnapshotRead,
)

# Incident types counted by the header figures, by their APCO ANS 2.103 code, so that any
# venue's plans.toml is read the same way without a flag of its own.
RESCUE_CODES = frozenset({"RESCUE - WATER", "MISSING PERSON"})
CRIMINAL_CODES = frozenset({"THEFT", "FIGHT", "ASSAULT", "ROBBERY", "BURGLARY", "SHOOTING"})


def day_start(venue: ActiveVenue, now: datetime) -> datetime:
    """Midnight of the venue's local day that contains ``now``, as a UTC-aware time."""
    local = now.astimezone(ZoneInfo(venue.scenario.config.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def board_unit(read: UnitRead) -> BoardUnitRead:
    """A unit as the map and the board need it."""
    position, location = read.position, read.location
    return BoardUnitRead(
        id=read.id,
        callsign=read.callsign,
        name=Bilingual(zh=read.name.zh, en=read.name.en),
        kind=read.kind.value,
        capabilities=read.capabilities,
        status=read.status.value,
        label=read.status_label,
        lon=position.lon if position else None,
        lat=position.lat if position else None,
        reported_at=position.reported_at if position else None,
        home=(location.lon, location.lat) if location else None,
        stale=read.stale,
    )


def board_alerts(session: Session, venue: ActiveVenue) -> list[BoardAlertRead]:
    names = {a.id: a.name.en for a in venue.scenario.areas}
    return [
        BoardAlertRead(
            **AlertRead.of(row, names).model_dump(),
            steps=[
                BoardStepRead(**PlanStepRead.of(step).model_dump(), run_id=run.id)
                for run, steps in alert_actions.plan_of(session, row.id)
                for step in steps
            ],
        )
        for row in alert_actions.list_alerts(session, venue_id=venue.scenario.id)
    ]


def crowd_now(state: AppState, now: datetime) -> list[EstimateRead]:
    if state.crowd is None:
        return []
    with state.crowd.lock:
        monitor = state.crowd.monitor
        return [
            EstimateRead.of(e, monitor.level(e.area_id)) for e in monitor.estimates(now.timestamp())
        ]


def snapshot(session: Session, state: AppState, venue: ActiveVenue, now: datetime) -> SnapshotRead:
    """Everything the dashboard keeps live, as of sequence number ``seq``."""
    seq = head_seq(session)
    since = day_start(venue, now)
    posts = post_locations(venue.scenario.posts)
    max_age = state.settings.position_max_age_s
    found = units.list_units(session, venue_id=venue.scenario.id)
    return SnapshotRead(
        seq=seq,
        clock=ClockRead(now=now, speed=state.clock.speed),
        day_start=since,
        max_age_s=max_age,
        units=[board_unit(units.unit_read(u, posts, now, max_age)) for u in found],
        incidents=queries.board(session, since=since),
        alerts=board_alerts(session, venue),
        crowd=crowd_now(state, now),
    )


# -- header figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    """What the figures are computed from: one venue day so far."""

    session: Session
    state: AppState
    venue: ActiveVenue
    start: datetime
    now: datetime

    def codes(self, apco: frozenset[str]) -> list[str]:
        return [p.code for p in self.venue.context.plans.values() if p.apco_code in apco]


@dataclass(frozen=True)
class Figure:
    key: str
    unit: str
    value: Callable[[Day], float | int | None]


def _open(day: Day) -> int:
    return queries.count_open(day.session)


def _closed_today(day: Day) -> int:
    return queries.count_closed_since(day.session, since=day.start)


def _response_p90(day: Day) -> float | None:
    found = metrics.samples(incidents.incident_times(day.session, since=day.start))
    seconds = [s.seconds for s in found if s.interval == "response"]
    return round(float(np.percentile(seconds, 90)), 1) if seconds else None


def _rescued_today(day: Day) -> int:
    """Incidents of a rescue type resolved today: one person each (the record has no count)."""
    return queries.count_resolved_since(day.session, since=day.start, types=day.codes(RESCUE_CODES))


def _days_without_crime(day: Day) -> int | None:
    """Whole local days since the last criminal incident; None when there has been none."""
    last = queries.last_received(day.session, types=day.codes(CRIMINAL_CODES))
    if last is None:
        return None
    zone = ZoneInfo(day.venue.scenario.config.timezone)
    return (day.now.astimezone(zone).date() - last.astimezone(zone).date()).days


def _visitors_now(day: Day) -> int | None:
    found = crowd_now(day.state, day.now)
    return round(sum(e.occupancy for e in found)) if found else None


FIGURES: tuple[Figure, ...] = (
    Figure("incidents_open", "incidents", _open),
    Figure("incidents_closed", "incidents", _closed_today),
    Figure("response_p90_s", "s", _response_p90),
    Figure("rescued", "persons", _rescued_today),
    Figure("days_without_crime", "days", _days_without_crime),
    Figure("visitors_now", "persons", _visitors_now),
)


def figures(
    session: Session,
    state: AppState,
    venue: ActiveVenue,
    now: datetime,
    chosen: Iterable[Figure] = FIGURES,
) -> FiguresRead:
    """Today's header figures, each with its unit."""
    day = Day(session, state, venue, day_start(venue, now), now)
    return FiguresRead(
        day_start=day.start,
        figures=[FigureRead(key=f.key, unit=f.unit, value=f.value(day)) for f in chosen],
    )
