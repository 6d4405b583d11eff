"""Patrol compliance for a local day: every unit with a post, from its positions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from lakeguard.forces.engine import Shift
from lakeguard.forces.service import list_units, positions_between
from lakeguard.incidents.service import busy_periods
from lakeguard.patrol.compliance import ComplianceParams, Fix, PostShape, UnitCompliance, assess
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork


@dataclass(frozen=True)
class DayCompliance:
    day: date
    units: tuple[UnitCompliance, ...]
    callsigns: dict[str, str]
    kinds: dict[str, str]


def shift_windows(
    shift: str, day_start: datetime, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """A shift's working time within one local day, as UTC datetimes."""
    parsed = Shift.parse(shift)
    day = day_start.astimezone(zone).date()

    def at(clock: time) -> datetime:
        if clock == time.max:
            return day_start + timedelta(days=1)
        return datetime.combine(day, clock, zone)

    end_of_day = day_start + timedelta(days=1)
    if parsed.start is None or parsed.end is None:
        return [(day_start, end_of_day)]
    start, end = at(parsed.start), at(parsed.end)
    if start <= end:
        return [(start, end)]
    return [(day_start, end), (start, end_of_day)]  # overnight: the morning and the evening


def day_compliance(
    session: Session,
    *,
    scenario: Scenario,
    network: TravelNetwork,
    day: date,
    now: datetime,
    params: ComplianceParams | None = None,
) -> DayCompliance:
    """Compliance of every unit with a home post over ``day`` (venue local time), up to ``now``."""
    p = params or ComplianceParams()
    zone = ZoneInfo(scenario.config.timezone)
    day_start = datetime.combine(day, time(0), zone)
    day_end = min(day_start + timedelta(days=1), now)
    lookback = timedelta(seconds=p.max_gap_s)
    tracks = positions_between(session, start=day_start - lookback, end=day_end + lookback)
    busy = busy_periods(session, start=day_start, end=day_end)
    posts = {post.id: post for post in scenario.posts}
    points = {
        post.id: _xy(network, post.shape.coords)[0]
        for post in scenario.posts
        if post.kind == "point"
    }
    found = []
    units = [u for u in list_units(session, venue_id=scenario.id) if u.home_post_id in posts]
    for unit in units:
        post = posts[unit.home_post_id or ""]
        shape = PostShape(post.id, post.kind, tuple(_xy(network, post.shape.coords)))
        windows = [
            (a.timestamp(), min(b, day_end).timestamp())
            for a, b in shift_windows(unit.shift, day_start, zone)
            if a < day_end
        ]
        fixes = [
            Fix(at.timestamp(), x, y)
            for (at, _, _), (x, y) in zip(
                tracks.get(unit.id, []),
                _xy(network, [(lon, lat) for _, lon, lat in tracks.get(unit.id, [])]),
                strict=True,
            )
        ]
        periods = [(a.timestamp(), b.timestamp()) for a, b in busy.get(unit.id, [])]
        found.append(
            assess(
                unit.id,
                shape,
                fixes,
                windows=windows,
                busy=periods,
                hotspot_points=points,
                params=p,
            )
        )
    return DayCompliance(
        day=day,
        units=tuple(found),
        callsigns={u.id: u.callsign for u in units},
        kinds={u.id: u.kind for u in units},
    )


def _xy(network: TravelNetwork, lonlat: Iterable[Sequence[float]]) -> list[tuple[float, float]]:
    points = list(lonlat)
    if not points:
        return []
    xy = network.to_xy([(float(p[0]), float(p[1])) for p in points])
    return [(float(x), float(y)) for x, y in xy]
