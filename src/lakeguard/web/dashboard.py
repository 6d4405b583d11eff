"""What the dashboard loads: one snapshot of the command room, and today's header figures.

The snapshot carries the outbox sequence number read *before* its data, so a page that applies
every event after that number on top of it misses nothing; events it already reflects change
nothing when applied again, because each sets a state rather than a difference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lakeguard.api.state import ActiveVenue, AppState
from lakeguard.crowd import alert_actions
from lakeguard.crowd.views import alert_json, estimate_json, step_json
from lakeguard.forces import service as units
from lakeguard.forces.engine import post_locations
from lakeguard.forces.views import unit_read
from lakeguard.incidents import metrics
from lakeguard.incidents import service as incidents
from lakeguard.incidents.models import AssignmentRow, IncidentRow, TimelineRow
from lakeguard.incidents.states import OPEN_STATUSES
from lakeguard.incidents.views import incident_json
from lakeguard.store.outbox import OutboxRow

# Incident types counted by the header figures, by their APCO ANS 2.103 code, so that any
# venue's plans.toml is read the same way without a flag of its own.
RESCUE_CODES = frozenset({"RESCUE - WATER", "MISSING PERSON"})
CRIMINAL_CODES = frozenset({"THEFT", "FIGHT", "ASSAULT", "ROBBERY", "BURGLARY", "SHOOTING"})


def head_seq(session: Session) -> int:
    """The newest outbox sequence number (0 for an empty outbox)."""
    return int(session.scalar(select(func.coalesce(func.max(OutboxRow.id), 0))) or 0)


def day_start(venue: ActiveVenue, now: datetime) -> datetime:
    """Midnight of the venue's local day that contains ``now``, as a UTC-aware time."""
    local = now.astimezone(ZoneInfo(venue.scenario.config.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def unit_json(read: Any) -> dict[str, Any]:
    """A unit as the map and the board need it: a tenth of the full record's size."""
    position, location = read.position, read.location
    return {
        "id": read.id,
        "callsign": read.callsign,
        "name": {"zh": read.name.zh, "en": read.name.en},
        "kind": read.kind.value,
        "capabilities": read.capabilities,
        "status": read.status.value,
        "label": read.status_label,
        "lon": position.lon if position else None,
        "lat": position.lat if position else None,
        "reported_at": position.reported_at.isoformat() if position else None,
        "home": [location.lon, location.lat] if location else None,
        "stale": read.stale,
    }


def _incident_rows(session: Session, since: datetime) -> list[IncidentRow]:
    """Open incidents, and every incident received since ``since``."""
    query = select(IncidentRow).where(
        IncidentRow.status.in_([s.value for s in OPEN_STATUSES])
        | (IncidentRow.received_at >= since)
    )
    return list(session.scalars(query.order_by(IncidentRow.id)))


def incidents_json(session: Session, since: datetime) -> list[dict[str, Any]]:
    rows = _incident_rows(session, since)
    found: dict[int, list[dict[str, Any]]] = {row.id: [] for row in rows}
    if rows:
        query = select(AssignmentRow).where(AssignmentRow.incident_id.in_(list(found)))
        for a in session.scalars(query.order_by(AssignmentRow.id)):
            found[a.incident_id].append(
                {"unit_id": a.unit_id, "status": a.status, "eta_s": a.eta_s}
            )
    out = []
    for row in rows:
        body = incident_json(row)
        # Descriptions can hold a lost child's details; reading them is audited, one by one.
        body.pop("description")
        body["assignments"] = found[row.id]
        out.append(body)
    return out


def alerts_json(session: Session, venue: ActiveVenue) -> list[dict[str, Any]]:
    names = {a.id: a.name.en for a in venue.scenario.areas}
    out = []
    for row in alert_actions.list_alerts(session, venue_id=venue.scenario.id):
        body = alert_json(row, names)
        body["steps"] = [
            step_json(step) | {"run_id": run.id}
            for run, steps in alert_actions.plan_of(session, row.id)
            for step in steps
        ]
        out.append(body)
    return out


def crowd_json(state: AppState, now: datetime) -> list[dict[str, Any]]:
    if state.crowd is None:
        return []
    with state.crowd.lock:
        monitor = state.crowd.monitor
        return [
            estimate_json(e, monitor.level(e.area_id)) for e in monitor.estimates(now.timestamp())
        ]


def snapshot(
    session: Session, state: AppState, venue: ActiveVenue, now: datetime
) -> dict[str, Any]:
    """Everything the dashboard keeps live, as of sequence number ``seq``."""
    seq = head_seq(session)
    since = day_start(venue, now)
    posts = post_locations(venue.scenario.posts)
    max_age = state.settings.position_max_age_s
    found = units.list_units(session, venue_id=venue.scenario.id)
    return {
        "seq": seq,
        "clock": {"now": now.isoformat(), "speed": state.clock.speed},
        "day_start": since.isoformat(),
        "max_age_s": max_age,
        "units": [unit_json(unit_read(u, posts, now, max_age)) for u in found],
        "incidents": incidents_json(session, since),
        "alerts": alerts_json(session, venue),
        "crowd": crowd_json(state, now),
    }


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
    query = select(func.count()).where(IncidentRow.status.in_([s.value for s in OPEN_STATUSES]))
    return int(day.session.scalar(query.select_from(IncidentRow)) or 0)


def _closed_today(day: Day) -> int:
    query = select(func.count()).where(
        IncidentRow.status == "closed", IncidentRow.closed_at >= day.start
    )
    return int(day.session.scalar(query.select_from(IncidentRow)) or 0)


def _response_p90(day: Day) -> float | None:
    found = metrics.samples(incidents.incident_times(day.session, since=day.start))
    seconds = [s.seconds for s in found if s.interval == "response"]
    return round(float(np.percentile(seconds, 90)), 1) if seconds else None


def _rescued_today(day: Day) -> int:
    """Incidents of a rescue type resolved today: one person each (the record has no count)."""
    query = (
        select(func.count(func.distinct(TimelineRow.incident_id)))
        .join(IncidentRow, IncidentRow.id == TimelineRow.incident_id)
        .where(
            TimelineRow.unit_id.is_(None),
            TimelineRow.to_status == "resolved",
            TimelineRow.at >= day.start,
            IncidentRow.type.in_(day.codes(RESCUE_CODES)),
        )
    )
    return int(day.session.scalar(query) or 0)


def _days_without_crime(day: Day) -> int | None:
    """Whole local days since the last criminal incident; None when there has been none."""
    query = select(func.max(IncidentRow.received_at)).where(
        IncidentRow.type.in_(day.codes(CRIMINAL_CODES))
    )
    last = day.session.scalar(query)
    if last is None:
        return None
    zone = ZoneInfo(day.venue.scenario.config.timezone)
    return (day.now.astimezone(zone).date() - last.astimezone(zone).date()).days


def _visitors_now(day: Day) -> int | None:
    found = crowd_json(day.state, day.now)
    return round(sum(e["occupancy"] for e in found)) if found else None


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
) -> dict[str, Any]:
    """Today's header figures, each with its unit."""
    day = Day(session, state, venue, day_start(venue, now), now)
    return {
        "day_start": day.start.isoformat(),
        "figures": [{"key": f.key, "unit": f.unit, "value": f.value(day)} for f in chosen],
    }
