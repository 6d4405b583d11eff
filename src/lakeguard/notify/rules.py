"""What goes out, and to whom: a small table of rules over events (pure).

Each rule reads one topic and answers the targets to tell, with the notice for each, or the
reasons it told nobody (logged by the worker). Who is behind a station, an officer or a
group comes from a :class:`Directory` the service builds from settings and the database.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lakeguard.community.events import CaseStatusChanged
from lakeguard.crowd.alerts import Level
from lakeguard.crowd.events import AlertLevelChanged
from lakeguard.events import Event
from lakeguard.incidents.events import IncidentCreated
from lakeguard.notify.engine import Notice, Severity
from lakeguard.notify.events import BroadcastSent
from lakeguard.venue.geometry import LocalProjection


@dataclass(frozen=True)
class AreaInfo:
    name: str
    kind: str
    station_id: str


class StationMap:
    """Where the stations are, in metres, to find those near a point.

    Distances are to the station itself (its ``location``), not to the edge of its ground:
    jurisdictions at a lake meet along long borders, so by ground every station of West Lake
    would be "within 2 km" of Broken Bridge; by building it is the three nearest.
    """

    def __init__(
        self, locations: Mapping[str, tuple[float, float]], projection: LocalProjection
    ) -> None:
        self._projection = projection
        self._points = {sid: projection.to_xy(lon, lat) for sid, (lon, lat) in locations.items()}

    def within(self, lon: float, lat: float, radius_m: float) -> tuple[str, ...]:
        """Stations within ``radius_m`` of a point, nearest first."""
        x, y = self._projection.to_xy(lon, lat)
        near = sorted((math.hypot(px - x, py - y), sid) for sid, (px, py) in self._points.items())
        return tuple(sid for distance, sid in near if distance <= radius_m)


@dataclass(frozen=True)
class Directory:
    """Who stands behind the venue's places and people, as targets."""

    areas: Mapping[str, AreaInfo] = field(default_factory=dict)
    # Station id → targets: the station's own (settings) and its liaison groups' (database).
    station_targets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    officer_targets: Mapping[str, str] = field(default_factory=dict)  # unit id → target
    stations: StationMap | None = None


@dataclass(frozen=True)
class RuleParams:
    """The rules' thresholds, as data."""

    alert_min_level: str = "orange"
    alert_area_kinds: tuple[str, ...] = ("hotspot",)
    lost_child_types: tuple[str, ...] = ("lost_child",)
    lost_child_radius_m: float = 2000.0
    case_statuses: tuple[str, ...] = ("assigned",)


@dataclass(frozen=True)
class Plan:
    """A rule's answer: (target, notice) pairs, and why it told nobody when it did not."""

    sends: tuple[tuple[str, Notice], ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    name: str
    topic: str
    description: str
    plan: Callable[[Event, Directory, RuleParams], Plan]


def _to(event: Event, targets: tuple[str, ...], title: str, body: str, sev: Severity) -> Plan:
    unique = tuple(dict.fromkeys(targets))
    return Plan(sends=tuple((t, Notice(f"{event.event_id}:{t}", title, body, sev)) for t in unique))


def _crowd_alert(event: Event, directory: Directory, params: RuleParams) -> Plan:
    assert isinstance(event, AlertLevelChanged)
    if Level.parse(event.level) < Level.parse(params.alert_min_level):
        return Plan()
    area = directory.areas.get(event.area_id)
    if area is None:
        return Plan(skipped=(f"area {event.area_id!r} is not in the venue",))
    if area.kind not in params.alert_area_kinds:
        return Plan()
    targets = directory.station_targets.get(area.station_id, ())
    if not targets:
        return Plan(skipped=(f"station {area.station_id!r} has no notify target",))
    ratio = f"{event.ratio:.0%} of capacity" if event.ratio is not None else "capacity unknown"
    severity: Severity = "critical" if event.level == "red" else "warning"
    title = f"Crowd alert {event.level.upper()} at {area.name}"
    body = f"{event.previous} → {event.level}; {ratio}. {event.cause}".strip()
    return _to(event, targets, title, body, severity)


def _lost_child(event: Event, directory: Directory, params: RuleParams) -> Plan:
    assert isinstance(event, IncidentCreated)
    if event.type not in params.lost_child_types:
        return Plan()
    if directory.stations is None:
        return Plan(skipped=("no venue loaded: stations near the child unknown",))
    near = directory.stations.within(event.lon, event.lat, params.lost_child_radius_m)
    targets = tuple(t for sid in near for t in directory.station_targets.get(sid, ()))
    if not targets:
        return Plan(skipped=(f"no station within {params.lost_child_radius_m:.0f} m has a target",))
    title = f"Lost child, incident #{event.incident_id}"
    body = f"Last seen near {event.place}. Stations near: {', '.join(near)}."
    return _to(event, targets, title, body, "critical")


def _case_assigned(event: Event, directory: Directory, params: RuleParams) -> Plan:
    assert isinstance(event, CaseStatusChanged)
    if event.status not in params.case_statuses:
        return Plan()
    officer = event.officer_unit_id
    target = directory.officer_targets.get(officer or "")
    if target is None:
        return Plan(skipped=(f"officer {officer!r} has no e-mail target",))
    title = f"Case #{event.case_id} assigned to you"
    body = f"Category {event.category}, station {event.station_id or 'none'}."
    return _to(event, (target,), title, body, "info")


def _broadcast(event: Event, directory: Directory, params: RuleParams) -> Plan:
    assert isinstance(event, BroadcastSent)
    severity: Severity = "warning" if event.kind in ("anti_fraud", "weather") else "info"
    return _to(event, tuple(event.targets), event.title, event.body, severity)


RULES: tuple[Rule, ...] = (
    Rule(
        "crowd-alert",
        AlertLevelChanged.topic,
        "alert level ≥ orange at a hotspot → the targets of the area's station",
        _crowd_alert,
    ),
    Rule(
        "lost-child",
        IncidentCreated.topic,
        "lost child → the targets of every station within 2 km",
        _lost_child,
    ),
    Rule(
        "case-assigned",
        CaseStatusChanged.topic,
        "community case assigned → the officer's e-mail target",
        _case_assigned,
    ),
    Rule("broadcast", BroadcastSent.topic, "a broadcast → the targets it chose", _broadcast),
)


def plan_event(event: Event, directory: Directory, params: RuleParams | None = None) -> Plan:
    """Every rule's answer for one event, together."""
    params = params or RuleParams()
    sends: list[tuple[str, Notice]] = []
    skipped: list[str] = []
    for rule in RULES:
        if rule.topic == event.topic:
            plan = rule.plan(event, directory, params)
            sends += plan.sends
            skipped += [f"{rule.name}: {reason}" for reason in plan.skipped]
    return Plan(tuple(sends), tuple(skipped))
