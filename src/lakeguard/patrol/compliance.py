"""Patrol compliance from positions: was each unit on its post, did it walk its segment, did it
stop at the hotspot points?

A unit's track is its reported fixes joined by straight lines where two fixes are close enough
in time (``max_gap_s``) to say where it was in between; longer gaps count as untracked rather
than guessed. The track is sampled every ``sample_s`` over the unit's shift, leaving out the
time it spent on dispatches (a unit sent to an incident is away from its post by order).

- ``walked_share`` (segment posts): the share of the segment's length within ``near_m`` of the
  joined track.
- ``away_share``: the share of tracked on-duty time farther than ``away_m`` from the post.
- stops: runs of samples within ``stop_radius_m`` of a hotspot point lasting ``dwell_min_s`` or
  more; a stop of 10 to 15 minutes is the dwell that hot-spot patrol studies found to deter
  best (Koper, 1995, "Just enough police presence"), so stops are also counted in that band.

Coordinates are metres on the venue's plane; times are seconds since the epoch. Pure: no
database, no clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ComplianceParams:
    near_m: float = 25.0  # a stretch of segment within this of the track counts as walked
    away_m: float = 150.0  # farther than this from the post is away from it
    max_gap_s: float = 900.0  # fixes further apart than this are not joined
    sample_s: float = 30.0
    stop_radius_m: float = 30.0
    dwell_min_s: float = 600.0  # Koper's band: stops of 10 ...
    dwell_max_s: float = 900.0  # ... to 15 minutes


@dataclass(frozen=True)
class Fix:
    t: float
    x: float
    y: float


@dataclass(frozen=True)
class PostShape:
    """A post on the venue's plane: a point or a segment's line, in metres."""

    id: str
    kind: str  # "point" | "segment"
    coords: tuple[tuple[float, float], ...]

    def geometry(self) -> shapely.Geometry:
        if self.kind == "point" or len(self.coords) == 1:
            return shapely.Point(self.coords[0])
        return shapely.LineString(self.coords)


@dataclass(frozen=True)
class Stop:
    point_id: str
    start: float
    end: float

    @property
    def duration_s(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class UnitCompliance:
    unit_id: str
    post_id: str
    post_kind: str
    fixes: int
    on_duty_s: float  # shift time not spent on dispatches
    tracked_s: float  # ... of which the track says where the unit was
    walked_share: float | None  # segments only; None for a point or when never tracked
    away_share: float | None  # None when never tracked
    stops: tuple[Stop, ...]
    koper_stops: int  # stops whose length falls in the 10–15 minute band


def on_duty_samples(
    windows: Sequence[tuple[float, float]],
    busy: Sequence[tuple[float, float]],
    sample_s: float,
) -> FloatArray:
    """Sample times over the shift windows, without the times spent on dispatches."""
    parts = [np.arange(start, end, sample_s) for start, end in windows if end > start]
    times = np.concatenate(parts) if parts else np.empty(0)
    keep = np.ones(len(times), dtype=bool)
    for start, end in busy:
        keep &= ~((times >= start) & (times < end))
    return np.asarray(times[keep], dtype=np.float64)


def track_at(
    fixes: Sequence[Fix], times: FloatArray, max_gap_s: float
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Positions at ``times`` interpolated between fixes; the mask says which are known.

    A time is known when it lies at or after one fix and before the next, the two at most
    ``max_gap_s`` apart: after the last fix nothing is known.
    """
    xy = np.full((len(times), 2), np.nan)
    if not fixes or not len(times):
        return xy, np.zeros(len(times), dtype=bool)
    t = np.array([f.t for f in fixes])
    x = np.array([f.x for f in fixes])
    y = np.array([f.y for f in fixes])
    nxt = np.searchsorted(t, times, side="right")
    known = (nxt > 0) & (nxt < len(t))
    before = np.clip(nxt - 1, 0, len(t) - 1)
    after = np.clip(nxt, 0, len(t) - 1)
    gap = t[after] - t[before]
    known &= gap <= max_gap_s
    share = (times - t[before]) / np.where(gap > 0, gap, 1.0)
    xy[:, 0] = x[before] + share * (x[after] - x[before])
    xy[:, 1] = y[before] + share * (y[after] - y[before])
    xy[~known] = np.nan
    return xy, known


def walked_share(
    post: PostShape,
    fixes: Sequence[Fix],
    windows: Sequence[tuple[float, float]],
    busy: Sequence[tuple[float, float]],
    params: ComplianceParams,
) -> float | None:
    """Share of a segment's length within ``near_m`` of the joined on-duty track."""
    line = post.geometry()
    if not isinstance(line, shapely.LineString) or line.length == 0:
        return None
    duty = [f for f in fixes if _on_duty(f.t, windows, busy)]
    pieces: list[shapely.Geometry] = []
    for a, b in itertools.pairwise(duty):
        if b.t - a.t <= params.max_gap_s and _on_duty_between(a.t, b.t, busy):
            pieces.append(shapely.LineString([(a.x, a.y), (b.x, b.y)]))
    pieces += [shapely.Point(f.x, f.y) for f in duty]
    if not pieces:
        return None
    near = shapely.union_all(shapely.buffer(np.array(pieces, dtype=object), params.near_m))
    return float(shapely.intersection(line, near).length / line.length)


def stops_at(
    times: FloatArray,
    xy: FloatArray,
    known: npt.NDArray[np.bool_],
    points: Mapping[str, tuple[float, float]],
    params: ComplianceParams,
) -> list[Stop]:
    """Runs of consecutive known samples near a hotspot point lasting ``dwell_min_s``."""
    found: list[Stop] = []
    for point_id, (px, py) in points.items():
        near = known & (np.hypot(xy[:, 0] - px, xy[:, 1] - py) <= params.stop_radius_m)
        # A run breaks where a sample is not near, or where the sample grid jumps (a dispatch).
        step_ok = np.diff(times) <= params.sample_s * 1.5
        start: int | None = None
        for i in range(len(times) + 1):
            inside = i < len(times) and bool(near[i]) and (start is None or bool(step_ok[i - 1]))
            if inside and start is None:
                start = i
            elif not inside and start is not None:
                end = times[i - 1] + params.sample_s
                if end - times[start] >= params.dwell_min_s:
                    found.append(Stop(point_id, float(times[start]), float(end)))
                start = i if i < len(times) and bool(near[i]) else None
    return sorted(found, key=lambda s: (s.start, s.point_id))


def assess(
    unit_id: str,
    post: PostShape,
    fixes: Sequence[Fix],
    *,
    windows: Sequence[tuple[float, float]],
    busy: Sequence[tuple[float, float]] = (),
    hotspot_points: Mapping[str, tuple[float, float]] | None = None,
    params: ComplianceParams | None = None,
) -> UnitCompliance:
    """One unit's compliance with its post over its shift windows on one day."""
    p = params or ComplianceParams()
    fixes = sorted(fixes, key=lambda f: f.t)
    times = on_duty_samples(windows, busy, p.sample_s)
    xy, known = track_at(fixes, times, p.max_gap_s)
    away: float | None = None
    if known.any():
        where = shapely.points(xy[known])
        distance = shapely.distance(where, post.geometry())
        away = float(np.mean(distance > p.away_m))
    stops = stops_at(times, xy, known, hotspot_points or {}, p)
    return UnitCompliance(
        unit_id=unit_id,
        post_id=post.id,
        post_kind=post.kind,
        fixes=len(fixes),
        on_duty_s=float(len(times) * p.sample_s),
        tracked_s=float(known.sum() * p.sample_s),
        walked_share=walked_share(post, fixes, windows, busy, p)
        if post.kind == "segment"
        else None,
        away_share=away,
        stops=tuple(stops),
        koper_stops=sum(1 for s in stops if s.duration_s <= p.dwell_max_s),
    )


def _on_duty(
    t: float, windows: Sequence[tuple[float, float]], busy: Sequence[tuple[float, float]]
) -> bool:
    return any(a <= t < b for a, b in windows) and not any(a <= t < b for a, b in busy)


def _on_duty_between(t0: float, t1: float, busy: Sequence[tuple[float, float]]) -> bool:
    """No dispatch overlaps the time between two fixes (the unit walked its post, not a call)."""
    return not any(a < t1 and t0 < b for a, b in busy)
