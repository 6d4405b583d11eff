"""The pure core of forces: unit kinds, status transitions, shifts, staleness and location.

No database, no clock: ``now`` is always an argument.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from lakeguard.errors import Conflict, Invalid
from lakeguard.venue.schema import Mode, Post


class UnitKind(StrEnum):
    OFFICER = "officer"
    AUXILIARY = "auxiliary"
    PLAINCLOTHES = "plainclothes"
    SECURITY_GUARD = "security_guard"
    TEAM = "team"
    PATROL_CAR = "patrol_car"
    BOAT = "boat"
    DRONE = "drone"


class Capability(StrEnum):
    """What a unit can do; response plans ask for these."""

    FIRST_AID = "first_aid"
    WATER_RESCUE = "water_rescue"
    MOUNTAIN = "mountain"
    DRONE = "drone"
    PLAINCLOTHES = "plainclothes"
    VEHICLE = "vehicle"
    CROWD_CONTROL = "crowd_control"
    FIRE = "fire"
    SEARCH = "search"
    TRAFFIC = "traffic"


# A boat cannot walk and a patrol car cannot sail: the modes each kind may travel by.
KIND_MODES: Mapping[UnitKind, frozenset[Mode]] = {
    UnitKind.OFFICER: frozenset({Mode.WALK, Mode.VEHICLE}),
    UnitKind.AUXILIARY: frozenset({Mode.WALK, Mode.VEHICLE}),
    UnitKind.PLAINCLOTHES: frozenset({Mode.WALK, Mode.VEHICLE}),
    UnitKind.SECURITY_GUARD: frozenset({Mode.WALK, Mode.VEHICLE}),
    UnitKind.TEAM: frozenset({Mode.WALK, Mode.VEHICLE, Mode.BOAT}),
    UnitKind.PATROL_CAR: frozenset({Mode.VEHICLE}),
    UnitKind.BOAT: frozenset({Mode.BOAT}),
    UnitKind.DRONE: frozenset({Mode.DRONE}),
}


def unit_problems(kind: UnitKind, mode: Mode, capabilities: Iterable[str]) -> list[str]:
    """What is wrong with a unit's kind, mode and capabilities (empty when nothing)."""
    problems = []
    if mode not in KIND_MODES[kind]:
        allowed = ", ".join(sorted(m.value for m in KIND_MODES[kind]))
        problems.append(f"mode: a {kind.value} travels by {allowed}, not {mode.value}")
    known = {c.value for c in Capability}
    for capability in capabilities:
        if capability not in known:
            listed = ", ".join(sorted(known))
            problems.append(f"capabilities: unknown capability {capability!r} (known: {listed})")
    return problems


# -- status ---------------------------------------------------------------------------------


class UnitStatus(StrEnum):
    """The base states the logic uses; display labels map onto these."""

    AVAILABLE = "available"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    UNAVAILABLE = "unavailable"
    OFF_DUTY = "off_duty"


_S = UnitStatus
# Where each state may go next. Going off duty or unavailable only from available, so that a
# unit is never taken off an incident silently: it is cleared (back to available) first.
TRANSITIONS: Mapping[UnitStatus, frozenset[UnitStatus]] = {
    _S.AVAILABLE: frozenset({_S.ASSIGNED, _S.UNAVAILABLE, _S.OFF_DUTY}),
    _S.ASSIGNED: frozenset({_S.EN_ROUTE, _S.ON_SCENE, _S.AVAILABLE}),  # on_scene: already there
    _S.EN_ROUTE: frozenset({_S.ON_SCENE, _S.AVAILABLE}),  # available: stood down
    _S.ON_SCENE: frozenset({_S.AVAILABLE}),
    _S.UNAVAILABLE: frozenset({_S.AVAILABLE}),
    _S.OFF_DUTY: frozenset({_S.AVAILABLE}),
}


class InvalidTransition(Conflict):
    """A status change the transition table does not allow."""

    title = "Status change not allowed"

    def __init__(self, current: UnitStatus, requested: UnitStatus) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
        super().__init__(
            f"a unit that is {current.value} cannot become {requested.value} "
            f"(from {current.value}: {allowed})",
            field="status",
        )
        self.current, self.requested = current, requested


def can_change(current: UnitStatus, requested: UnitStatus) -> bool:
    """Whether ``current`` may become ``requested``; staying put (a new label) always may."""
    return requested == current or requested in TRANSITIONS[current]


def check_transition(current: UnitStatus, requested: UnitStatus) -> None:
    """Raise :class:`InvalidTransition` unless the change is allowed."""
    if not can_change(current, requested):
        raise InvalidTransition(current, requested)


# -- shifts ---------------------------------------------------------------------------------

SHIFT_PATTERN = r"^(24h|([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d)$"


@dataclass(frozen=True)
class Shift:
    """Local working hours: ``24h`` or ``HH:MM-HH:MM`` (an end before the start runs overnight)."""

    start: time | None  # None: round the clock
    end: time | None

    @classmethod
    def parse(cls, text: str) -> Shift:
        if text == "24h":
            return cls(None, None)
        start, end = (_clock(part) for part in text.split("-"))
        return cls(start, end)

    def covers(self, local: time) -> bool:
        """Whether a local time of day falls within the shift."""
        if self.start is None or self.end is None:
            return True
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def _clock(text: str) -> time:
    hours, minutes = (int(v) for v in text.split(":"))
    return time.max if hours == 24 else time(hours, minutes)


# -- positions ------------------------------------------------------------------------------

MAX_FUTURE_S = 300.0  # tracker clocks drift; beyond five minutes ahead a time is wrong


class FuturePosition(Invalid):
    """A report timestamped too far ahead of the time it was received."""

    title = "Invalid position"


def check_report_time(
    reported_at: datetime, now: datetime, max_future_s: float = MAX_FUTURE_S
) -> None:
    """Refuse a report more than ``max_future_s`` ahead of ``now``."""
    ahead = (reported_at - now).total_seconds()
    if ahead > max_future_s:
        raise FuturePosition(
            f"timestamp: {reported_at.isoformat()} is {ahead:.0f} s in the future "
            f"(at most {max_future_s:.0f} s ahead is accepted; check the device clock)",
            field="timestamp",
        )


def position_age_s(reported_at: datetime, now: datetime) -> float:
    """Seconds since a report, never negative (a clock slightly ahead counts as now)."""
    return max(0.0, (now - reported_at).total_seconds())


def supersedes(reported_at: datetime, latest_at: datetime | None) -> bool:
    """Whether a report replaces the latest one; an older report arrived late and does not."""
    return latest_at is None or reported_at >= latest_at


@dataclass(frozen=True)
class PositionReport:
    """One position as a tracker or an officer's phone reported it (WGS84, SI units)."""

    lat: float
    lon: float
    reported_at: datetime
    accuracy_m: float | None = None
    speed_ms: float | None = None
    bearing_deg: float | None = None
    altitude_m: float | None = None
    battery: float | None = None  # percent
    attributes: Mapping[str, Any] = field(default_factory=dict)  # what the device sent besides


class Locatable(Protocol):
    """What locating a unit needs: its latest position (if any) and its home post."""

    @property
    def lon(self) -> float | None: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def reported_at(self) -> datetime | None: ...
    @property
    def home_post_id(self) -> str | None: ...


class LocationSource(StrEnum):
    POSITION = "position"
    HOME_POST = "home_post"


class DispatchLocation(NamedTuple):
    """Where dispatch assumes a unit is, and why."""

    lon: float
    lat: float
    source: LocationSource
    reason: str


def post_location(post: Post) -> tuple[float, float]:
    """A post's lon/lat: a point's point, a segment's midpoint along its length."""
    coords = post.geometry["coordinates"]
    if post.kind == "point":
        return float(coords[0]), float(coords[1])
    # Metres along the line on a local equirectangular plane: exact enough for a midpoint.
    scale = math.cos(math.radians(sum(c[1] for c in coords) / len(coords)))
    pieces = [math.hypot((b[0] - a[0]) * scale, b[1] - a[1]) for a, b in itertools.pairwise(coords)]
    remaining = sum(pieces) / 2
    for (a, b), length in zip(itertools.pairwise(coords), pieces, strict=True):
        if remaining <= length and length > 0:
            f = remaining / length
            return float(a[0] + f * (b[0] - a[0])), float(a[1] + f * (b[1] - a[1]))
        remaining -= length
    return float(coords[-1][0]), float(coords[-1][1])


def post_locations(posts: Iterable[Post]) -> dict[str, tuple[float, float]]:
    """Every post's location by id (see :func:`post_location`)."""
    return {post.id: post_location(post) for post in posts}


def dispatch_location(
    unit: Locatable, posts: Mapping[str, tuple[float, float]], now: datetime, max_age_s: float
) -> DispatchLocation | None:
    """Where to dispatch a unit from: a fresh position, else its home post, else None.

    A stale position of a unit without a home post is still the best guess and is used
    (reason ``stale_position_no_home_post``); only a unit with neither is not locatable.
    """
    lon, lat, reported_at = unit.lon, unit.lat, unit.reported_at
    last_known = None
    if lon is not None and lat is not None and reported_at is not None:
        if position_age_s(reported_at, now) <= max_age_s:
            return DispatchLocation(lon, lat, LocationSource.POSITION, "fresh_position")
        last_known = DispatchLocation(
            lon, lat, LocationSource.POSITION, "stale_position_no_home_post"
        )
    home = posts.get(unit.home_post_id) if unit.home_post_id else None
    if home is not None:
        reason = "stale_position_used_home_post" if last_known else "no_position_home_post"
        return DispatchLocation(home[0], home[1], LocationSource.HOME_POST, reason)
    return last_known


@dataclass(frozen=True)
class UnitState:
    """A unit as the recommender sees it: what it is, what it is doing, where it is."""

    id: str
    callsign: str
    kind: UnitKind
    mode: Mode
    capabilities: frozenset[Capability]
    status: UnitStatus
    station: str | None
    lon: float
    lat: float
    location_source: LocationSource
    stale: bool
    position_age_s: float | None  # None: the unit has never reported a position
    home_post: str | None
    company: str | None = None
    location_reason: str = ""
    speed_ms: float | None = None  # at the last report
