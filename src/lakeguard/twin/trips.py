"""One unit's dispatch as a timed path: turnout, the way out, the scene, the way back."""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from lakeguard.twin.frame import FloatArray
from lakeguard.twin.paths import Route, Unreachable, straight
from lakeguard.venue.schema import Mode

if TYPE_CHECKING:
    from lakeguard.twin.units import UnitModel


@dataclass(frozen=True)
class Anchor:
    """Where a unit left its post, to go back to: a spot on its beat, or where it stands."""

    xy: FloatArray
    arc_m: float | None  # metres along the beat; None for a unit that stands
    forward: bool


@dataclass(frozen=True)
class DispatchPlan:
    """A dispatch as planned, with the bound it must respect.

    ``free_flow_s`` is the network's free-flow time from the unit's true position at dispatch
    (``TravelNetwork.travel_times``; for drones it includes the launch). The twin never
    beats it: ``turnout_s + travel_s >= free_flow_s``.
    """

    unit_id: str
    incident_id: int
    mode: str
    dispatched_s: float
    from_lonlat: tuple[float, float]
    to_lonlat: tuple[float, float]
    turnout_s: float
    travel_s: float
    free_flow_s: float
    on_scene_s: float


class Trip:
    """A unit's whole dispatch, positions by time; changed only by a release."""

    def __init__(
        self,
        unit: int,
        plan: DispatchPlan,
        route: Route,
        *,
        handling_s: float,
        anchor: Anchor,
        prior_s0: float | None,
        previous: Trip | None,
    ) -> None:
        self.unit = unit
        self.plan = plan
        self.incident_id = plan.incident_id
        self.dispatched_s = plan.dispatched_s
        self.ack_s = plan.dispatched_s + plan.turnout_s
        self.arrive_s = plan.on_scene_s
        self.resolve_s = plan.on_scene_s + handling_s
        self.route = route  # absolute times, from dispatch until back at the post
        self._times: list[float] = route.t.tolist()
        self.home_s = float(route.t[-1])
        self.anchor = anchor
        self.prior_s0 = prior_s0
        self.previous = previous
        self.released_s: float | None = None

    def state(self, t_s: float) -> tuple[FloatArray, float, float]:
        """Position, speed (m/s) and bearing (degrees; nan when still) at ``t_s``."""
        if self.previous is not None and t_s < self.dispatched_s:
            return self.previous.state(t_s)
        t, xy = self._times, self.route.xy
        k = min(max(bisect.bisect_right(t, t_s) - 1, 0), len(t) - 2)
        span = t[k + 1] - t[k]
        if span <= 0:
            return xy[k + 1].copy(), 0.0, math.nan
        dx, dy = float(xy[k + 1, 0] - xy[k, 0]), float(xy[k + 1, 1] - xy[k, 1])
        distance = math.hypot(dx, dy)
        if distance < 1e-6:
            return xy[k].copy(), 0.0, math.nan
        f = min(max((t_s - t[k]) / span, 0.0), 1.0)
        here = np.array([xy[k, 0] + f * dx, xy[k, 1] + f * dy])
        return here, distance / span, math.degrees(math.atan2(dx, dy)) % 360.0

    def release(self, model: UnitModel, t_s: float) -> None:
        """Cut the trip at ``t_s`` and head back to the post from wherever the unit is."""
        here, _, _ = self.state(t_s)
        mode = model.modes[self.unit]
        back = legs(model, mode, here, self.anchor.xy, None, model.patrol_speed(mode))
        keep = self.route.t < t_s
        head = Route(np.append(self.route.t[keep], t_s), np.vstack([self.route.xy[keep], here]))
        self.route = head.then(back)
        self._times = self.route.t.tolist()
        self.home_s = float(self.route.t[-1])
        self.released_s = t_s


def plan_trip(
    model: UnitModel,
    i: int,
    incident_id: int,
    t_s: float,
    start: FloatArray,
    scene: FloatArray,
    handling_s: float,
    densities: Mapping[str, float] | None,
    anchor: Anchor,
    prior_s0: float | None,
    previous: Trip | None,
) -> Trip:
    """Plan unit ``i``'s dispatch at ``t_s`` from ``start`` to ``scene`` and back."""
    mode = model.modes[i]
    net = model.network
    turnout = model.turnout_s(i)
    outbound = legs(model, mode, start, scene, densities, None)
    start_ll = _lonlat(model, start)
    scene_ll = _lonlat(model, scene)
    free = float(net.travel_times([start_ll], [scene_ll], mode)[0, 0])
    if turnout + outbound.duration_s < free:
        # The same path and the same costs as the network: only rounding can land here.
        outbound = outbound.stretched(free - turnout)
    ack = t_s + turnout
    arrive = ack + outbound.duration_s
    back = legs(model, mode, scene, anchor.xy, None, model.patrol_speed(mode))
    route = Route(np.array([t_s, ack]), np.vstack([start, start]))
    route = route.then(outbound).then(Route(np.array([0.0, handling_s]), np.vstack([scene, scene])))
    route = route.then(back)
    plan = DispatchPlan(
        unit_id=model.units[i].unit_id,
        incident_id=incident_id,
        mode=mode.value,
        dispatched_s=t_s,
        from_lonlat=start_ll,
        to_lonlat=scene_ll,
        turnout_s=turnout,
        travel_s=outbound.duration_s,
        free_flow_s=free,
        on_scene_s=arrive,
    )
    if previous is not None:
        previous.previous = None  # one step of history is all a query before now needs
    return Trip(
        i, plan, route, handling_s=handling_s, anchor=anchor, prior_s0=prior_s0, previous=previous
    )


def legs(
    model: UnitModel,
    mode: Mode,
    a: FloatArray,
    b: FloatArray,
    densities: Mapping[str, float] | None,
    pace_ms: float | None,
) -> Route:
    """The way from ``a`` to ``b`` for a mode: at full speed (``pace_ms`` None) or a pace.

    Walking edges are slowed by ``densities`` at full speed; walks on and off a network go
    straight at walking speed, as the network times them. A car drives to the road point
    nearest the scene and, when that is more than ``kerb_walk_m`` away, its crew walks the
    rest on the footpaths (and back the same way).
    """
    net, router = model.network, model.router
    if mode == Mode.DRONE:
        return straight(a, b, pace_ms or net.speeds.drone)
    walk_ms = net.speeds.walk if pace_ms is None else min(pace_ms, net.speeds.walk)
    walk_cost = (
        net.edge_seconds(Mode.WALK, densities)
        if pace_ms is None
        else router.free_cost(Mode.WALK, walk_ms)
    )
    if mode == Mode.WALK:
        return router.route(Mode.WALK, a, b, walk_cost, walk_ms)
    cost = router.free_cost(mode, pace_ms)
    if mode == Mode.BOAT:
        return router.route(Mode.BOAT, a, b, cost, walk_ms)
    kerb_limit = model.settings.kerb_walk_m
    kerb_a, off_a = router.kerb(a, Mode.VEHICLE)
    kerb_b, off_b = router.kerb(b, Mode.VEHICLE)
    drive_from = kerb_a if off_a > kerb_limit else a
    drive_to = kerb_b if off_b > kerb_limit else b
    way = router.route(Mode.VEHICLE, drive_from, drive_to, cost, walk_ms)
    if off_a > kerb_limit:
        way = _on_foot(model, a, kerb_a, walk_cost, walk_ms).then(way)
    if off_b > kerb_limit:
        way = way.then(_on_foot(model, kerb_b, b, walk_cost, walk_ms))
    return way


def _on_foot(
    model: UnitModel, a: FloatArray, b: FloatArray, cost: FloatArray, speed_ms: float
) -> Route:
    """Footpaths between a road and a scene; straight across where no path joins them."""
    try:
        return model.router.route(Mode.WALK, a, b, cost, speed_ms)
    except Unreachable:
        return straight(a, b, speed_ms)


def _lonlat(model: UnitModel, xy: FloatArray) -> tuple[float, float]:
    lon, lat = model.network.projection.to_lonlat(float(xy[0]), float(xy[1]))
    return float(lon), float(lat)
