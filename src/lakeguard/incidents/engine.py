"""Which units to send: every candidate ranked by routed, crowd-aware ETA (pure).

For an incident's response plan, each requirement (a capability and a count) is filled with
the fastest eligible units. Requirements with the fewest eligible units are filled first, so a
scarce specialist (the only boat) is not spent on a slot any unit could fill. Every pick says
why it was made and every unfilled slot why it could not be.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from lakeguard.incidents.whereabouts import LastSeen, WhereaboutsParams, eta_range, sample_positions
from lakeguard.venue.geometry import FloatArray
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.plans import Requirement, ResponsePlan
from lakeguard.venue.reach import Fleet
from lakeguard.venue.schema import Mode

# Beyond this age a unit's last report says too little about where it is to send it.
HARD_STALE_LIMIT_S = 30 * 60
# Expected turnout (p50, p90 seconds) before the platform has its own history: NFPA 1710's
# 60 s turnout allowance as the p90, half of it as the median.
DEFAULT_TURNOUT = (30.0, 60.0)
# Only the fastest few eligible units per requirement are timed from every place they may be.
SHORTLIST = 12
# A range this much wider than its median says the unit's position matters.
UNCERTAIN_SPREAD_S = 60.0


class Reason(StrEnum):
    FASTEST_ETA = "fastest_eta"
    ONLY_CAPABLE = "only_capable"
    STALE_POSITION_USED = "stale_position_used"
    NO_POSITION_HOME_POST = "no_position_home_post"
    DRONE_STRAIGHT_LINE = "drone_straight_line"
    CROWD_SLOWED = "crowd_slowed"
    BEYOND_TARGET = "beyond_target"  # the ETA is over the plan's turnout and travel targets
    POSITION_UNCERTAIN = "position_uncertain"  # where it is now matters: p90 well above p50


class Shortfall(StrEnum):
    NO_CAPABLE_UNIT = "no_capable_unit"
    ALL_BUSY = "all_busy"
    POSITIONS_STALE = "positions_stale"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Candidate:
    """A unit as the recommender sees it."""

    unit_id: str
    mode: Mode
    capabilities: frozenset[str]
    available: bool
    lon: float | None
    lat: float | None
    location_source: str = "position"  # or "home_post"
    position_age_s: float | None = None
    kind: str = ""  # for its expected turnout
    speed_ms: float | None = None  # at its last report
    beat: tuple[tuple[float, float], ...] = ()  # its home post's segment, lon/lat

    def last_seen(self) -> LastSeen:
        assert self.lon is not None and self.lat is not None
        return LastSeen(
            self.lon, self.lat, self.mode, self.location_source == "home_post",
            self.position_age_s, self.speed_ms, self.beat,
        )  # fmt: skip


@dataclass(frozen=True)
class Pick:
    unit_id: str
    requirement: int  # index into the plan's requirements
    capability: str | None
    eta_s: float  # the median: expected turnout plus travel from where the unit may be
    reasons: tuple[Reason, ...]
    eta_p90_s: float | None = None


@dataclass(frozen=True)
class Gap:
    requirement: int
    capability: str | None
    missing: int
    code: Shortfall


@dataclass(frozen=True)
class Alternative:
    """A unit outside the plan's requirements that can be there within the travel target."""

    unit_id: str
    eta_s: float


@dataclass(frozen=True)
class Recommendation:
    plan: str
    picks: tuple[Pick, ...]
    gaps: tuple[Gap, ...]
    considered: int  # candidates timed
    # When a pick is beyond the travel target: the fastest other units that are within it
    # (the nearest guard to hold the scene until the specialist arrives).
    alternatives: tuple[Alternative, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.gaps


@dataclass(frozen=True)
class CandidatePool:
    """Candidates placed on the network once; reused while positions do not change.

    Capabilities, modes and staleness are kept as arrays in fleet order, so that filling a
    plan is a few array operations rather than a loop over two thousand units.
    """

    candidates: tuple[Candidate, ...]
    fleet: Fleet
    index: Mapping[str, int]
    placed: tuple[Candidate, ...]
    capability_columns: Mapping[str, int]
    capabilities: npt.NDArray[np.bool_]  # (placed, capabilities)
    modes: npt.NDArray[np.str_]
    too_stale: npt.NDArray[np.bool_]

    @classmethod
    def place(
        cls, network: TravelNetwork, candidates: Sequence[Candidate], fleet: Fleet | None = None
    ) -> CandidatePool:
        """Place the available, located candidates (or reuse ``fleet``, placed from them)."""
        placed = tuple(
            c for c in candidates if c.available and c.lon is not None and c.lat is not None
        )
        fleet = fleet or Fleet.place(
            network,
            [c.unit_id for c in placed],
            np.array([(c.lon, c.lat) for c in placed], dtype=float).reshape(-1, 2),
            [c.mode for c in placed],
        )
        columns = {
            cap: n for n, cap in enumerate(sorted({str(k) for c in placed for k in c.capabilities}))
        }
        matrix = np.zeros((len(placed), len(columns)), dtype=bool)
        for i, c in enumerate(placed):
            matrix[i, [columns[str(k)] for k in c.capabilities]] = True
        return cls(
            candidates=tuple(candidates),
            fleet=fleet,
            index={c.unit_id: i for i, c in enumerate(placed)},
            placed=placed,
            capability_columns=columns,
            capabilities=matrix,
            modes=np.array([c.mode.value for c in placed], dtype=str),
            too_stale=np.array([_too_stale(c) for c in placed], dtype=bool),
        )

    def fits(self, req: Requirement) -> npt.NDArray[np.bool_]:
        """Which placed candidates could fill a requirement (capability and mode)."""
        mask = ~self.too_stale
        if req.capability is not None:
            column = self.capability_columns.get(req.capability)
            if column is None:
                return np.zeros(len(self.placed), dtype=bool)
            mask = mask & self.capabilities[:, column]
        if req.modes:
            mask = mask & np.isin(self.modes, [m.value for m in req.modes])
        return mask


def unit_etas(
    network: TravelNetwork,
    fleet: Fleet,
    lonlat: tuple[float, float],
    densities: Mapping[str, float] | None = None,
) -> FloatArray:
    """Seconds for every placed unit to reach a location: one pass per mode, no bound."""
    target_xy = network.to_xy([lonlat])
    seconds = np.full(len(fleet.ids), np.inf)
    for mode, (members, snaps) in fleet.snaps.items():
        target = network.snap_xy(target_xy, mode)
        node_times = network.times_from([target], densities=densities)
        if densities:
            seconds[members] = network.times_at(node_times, snaps, densities, [target])[0]
        else:
            seconds[members] = network.times_at_prepared(
                node_times[0], fleet.prepared[mode], target
            )
    if len(fleet.drones):
        d = fleet.xy[fleet.drones] - target_xy[0]
        straight = np.sqrt((d * d).sum(axis=1))
        seconds[fleet.drones] = network.speeds.drone_launch_s + straight / network.speeds.drone
    return seconds


def recommend(
    network: TravelNetwork,
    pool: CandidatePool,
    plan: ResponsePlan,
    lonlat: tuple[float, float],
    *,
    densities: Mapping[str, float] | None = None,
    sent: Sequence[str] = (),
    alternatives: int = 3,
    turnout: Mapping[str, tuple[float, float]] | None = None,
    whereabouts: WhereaboutsParams | None = None,
) -> Recommendation:
    """The fastest set of units that satisfies the plan, with reasons and shortfalls.

    Each unit's ETA is a range: its kind's expected turnout (``turnout``: p50, p90 by kind)
    plus the travel time from each place it may be by now (see ``whereabouts``); units are
    ranked by the middle of p50 and p90, so a unit that is probably near but may be far gives
    way to one surely almost as near. ``sent`` are the units already on the incident: each
    fills one requirement it fits (the scarcest first), so a second look asks only for what
    is still missing.
    """
    etas = unit_etas(network, pool.fleet, lonlat, densities)
    free = unit_etas(network, pool.fleet, lonlat) if densities else etas
    reachable = np.isfinite(etas)
    eligible = [pool.fits(req) & reachable for req in plan.requires]
    counts = [int(m.sum()) for m in eligible]
    order = sorted(range(len(plan.requires)), key=lambda r: (counts[r], r))
    needed = _still_needed(pool, plan, order, sent)
    low, high = _ranges(network, pool, etas, eligible, lonlat, densities, turnout, whereabouts)
    rank = (low + high) / 2
    target = plan.targets.turnout_s + plan.targets.travel_s
    free_now = np.ones(len(pool.placed), dtype=bool)
    picks: list[Pick] = []
    gaps: list[Gap] = []
    for r in order:
        req = plan.requires[r]
        if needed[r] == 0:
            continue
        options = np.flatnonzero(eligible[r] & free_now)
        chosen = options[np.argsort(rank[options], kind="stable")[: needed[r]]]
        for i in chosen.tolist():
            free_now[i] = False
            unit = pool.placed[i]
            reasons = _reasons(unit, counts[r] == 1, float(etas[i]), float(free[i]))
            if high[i] - low[i] > UNCERTAIN_SPREAD_S:
                reasons += (Reason.POSITION_UNCERTAIN,)
            if low[i] > target:
                reasons += (Reason.BEYOND_TARGET,)
            pick = Pick(unit.unit_id, r, req.capability, float(low[i]), reasons, float(high[i]))
            picks.append(pick)
        if len(chosen) < needed[r]:
            gaps.append(
                Gap(r, req.capability, needed[r] - len(chosen), _shortfall(pool, req, etas))
            )
    picks.sort(key=lambda p: p.eta_s)
    others: tuple[Alternative, ...] = ()
    if any(Reason.BEYOND_TARGET in p.reasons for p in picks) and alternatives > 0:
        within = np.flatnonzero(free_now & reachable & ~pool.too_stale & (low <= target))
        fastest = within[np.argsort(low[within], kind="stable")[:alternatives]]
        others = tuple(Alternative(pool.placed[i].unit_id, float(low[i])) for i in fastest)
    return Recommendation(plan.code, tuple(picks), tuple(gaps), len(pool.placed), others)


def _ranges(
    network: TravelNetwork,
    pool: CandidatePool,
    etas: FloatArray,
    eligible: Sequence[npt.NDArray[np.bool_]],
    lonlat: tuple[float, float],
    densities: Mapping[str, float] | None,
    turnout: Mapping[str, tuple[float, float]] | None,
    params: WhereaboutsParams | None,
) -> tuple[FloatArray, FloatArray]:
    """Every placed unit's ETA p50 and p90 (seconds, turnout included).

    The shortlisted units (the fastest few of each requirement by their reported position)
    are timed from every place they may be; the rest keep their point ETA plus turnout.
    """
    turnouts = turnout or {}
    t50 = np.array([turnouts.get(c.kind, DEFAULT_TURNOUT)[0] for c in pool.placed])
    t90 = np.array([turnouts.get(c.kind, DEFAULT_TURNOUT)[1] for c in pool.placed])
    low, high = etas + t50, etas + t90
    shortlist: set[int] = set()
    for mask in eligible:
        options = np.flatnonzero(mask)
        shortlist.update(options[np.argsort(etas[options], kind="stable")[:SHORTLIST]].tolist())
    owners: list[int] = []
    points: list[FloatArray] = []
    for i in sorted(shortlist):
        samples = sample_positions(network, pool.placed[i].last_seen(), params)
        if len(samples) > 1:
            owners += [i] * len(samples)
            points.append(samples)
    if not points:
        return low, high
    where = np.vstack(points)
    modes = [pool.placed[i].mode for i in owners]
    spread = Fleet.place(network, [pool.placed[i].unit_id for i in owners], where, modes)
    times = unit_etas(network, spread, lonlat, densities)
    owner = np.array(owners)
    for i in np.unique(owner).tolist():
        low[i], high[i] = eta_range(times[owner == i], (float(t50[i]), float(t90[i])))
    return low, high


def _still_needed(
    pool: CandidatePool, plan: ResponsePlan, order: Sequence[int], sent: Sequence[str]
) -> list[int]:
    """Each requirement's count less the units already sent that fill it."""
    needed = [req.count for req in plan.requires]
    by_id = {c.unit_id: c for c in pool.candidates}
    left = [by_id[u] for u in sent if u in by_id]
    for r in order:
        for unit in list(left):
            if needed[r] == 0:
                break
            if _fits(unit, plan.requires[r]):
                needed[r] -= 1
                left.remove(unit)
    return needed


def _fits(candidate: Candidate, req: Requirement) -> bool:
    if req.capability is not None and req.capability not in candidate.capabilities:
        return False
    return not req.modes or candidate.mode in req.modes


def _too_stale(candidate: Candidate) -> bool:
    """A last report so old that not even its home post is a fair guess of where it is."""
    age = candidate.position_age_s
    return age is not None and age > HARD_STALE_LIMIT_S


def _reasons(candidate: Candidate, only: bool, eta: float, free_eta: float) -> tuple[Reason, ...]:
    reasons = [Reason.ONLY_CAPABLE if only else Reason.FASTEST_ETA]
    if candidate.location_source == "home_post":
        stale = candidate.position_age_s is not None
        reasons.append(Reason.STALE_POSITION_USED if stale else Reason.NO_POSITION_HOME_POST)
    if candidate.mode == Mode.DRONE:
        reasons.append(Reason.DRONE_STRAIGHT_LINE)
    if eta > free_eta * 1.1 + 1:
        reasons.append(Reason.CROWD_SLOWED)
    return tuple(reasons)


def _shortfall(pool: CandidatePool, req: Requirement, etas: FloatArray) -> Shortfall:
    capable = [c for c in pool.candidates if _fits(c, req)]
    if not capable:
        return Shortfall.NO_CAPABLE_UNIT
    ready = [c for c in capable if c.available]
    if not ready:
        return Shortfall.ALL_BUSY
    located = [c for c in ready if c.unit_id in pool.index and not _too_stale(c)]
    if not located:
        return Shortfall.POSITIONS_STALE
    if not any(np.isfinite(etas[pool.index[c.unit_id]]) for c in located):
        return Shortfall.UNREACHABLE
    return Shortfall.ALL_BUSY  # the reachable ones are already taken by this plan's other slots
