"""Patrol beats: every unit's line, concatenated so that positions are vectorised over units.

A unit on a beat walks (drives, sails) back and forth at a constant pace, so its place at any
time is a closed formula: ``s = (s0 + v·t) mod 2L`` along a line of length ``L``, folded back
on the way home. All beats share one arc-length axis (each offset past the previous), so one
``searchsorted`` finds every unit's piece of line at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from lakeguard.twin.frame import FloatArray
from lakeguard.twin.paths import Router
from lakeguard.twin.trips import Anchor
from lakeguard.venue.schema import Mode, Post

_GAP_M = 1.0  # between beats on the shared axis, so that neighbours never overlap
MIN_BEAT_M = 5.0  # a shorter line is a unit standing


class Beats:
    """The beats of a set of units and each unit's phase on its own (or none: it stands)."""

    def __init__(
        self,
        router: Router,
        posts: Sequence[Post],
        home_post: Sequence[str | None],
        modes: Sequence[Mode],
        home_xy: FloatArray,
        speed: FloatArray,
        roam_radius_m: float,
        rng: np.random.Generator,
    ) -> None:
        by_id = {p.id: p for p in posts}
        lines: list[FloatArray] = []
        shared: dict[tuple[str, Mode], int] = {}
        self.home = home_xy
        self.speed = speed
        self.of_unit = np.full(len(modes), -1, dtype=np.int64)
        for i, (post_id, mode) in enumerate(zip(home_post, modes, strict=True)):
            post = by_id.get(post_id) if post_id else None
            if mode == Mode.DRONE or (post is not None and post.kind != "segment"):
                continue  # drones wait at their base; point posts are stood
            if post is None:
                self.of_unit[i] = len(lines)
                lines.append(router.roam_beat(home_xy[i], mode, roam_radius_m, rng.random()))
                continue
            key = (post.id, mode)
            if key not in shared:
                coords = np.asarray(post.geometry["coordinates"], dtype=np.float64)
                shared[key] = len(lines)
                lines.append(router.beat(router.network.to_xy(coords), mode))
            self.of_unit[i] = shared[key]
        self._concatenate(lines)
        too_short = np.flatnonzero(self.length < MIN_BEAT_M)
        self.of_unit[np.isin(self.of_unit, too_short)] = -1
        self.s0 = np.zeros(len(modes))
        for u in np.flatnonzero(self.of_unit >= 0):
            b = int(self.of_unit[u])
            line = shapely.LineString(self.vertices[self.first[b] : self.stop[b]])
            arc = float(line.project(shapely.Point(home_xy[u])))
            self.s0[u] = arc if rng.random() < 0.5 else 2 * self.length[b] - arc

    def _concatenate(self, lines: list[FloatArray]) -> None:
        vertices, cum, first, stop, base, lengths = [], [], [], [], [], []
        offset, count = 0.0, 0
        for line in lines:
            local = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(line, axis=0).T))])
            vertices.append(line)
            cum.append(local + offset)
            first.append(count)
            count += len(line)
            stop.append(count)
            base.append(offset)
            lengths.append(float(local[-1]))
            offset += float(local[-1]) + _GAP_M
        self.vertices = np.concatenate(vertices) if vertices else np.empty((0, 2))
        self.cum = np.concatenate(cum) if cum else np.empty(0)
        self.first = np.array(first, dtype=np.int64)
        self.stop = np.array(stop, dtype=np.int64)
        self.base = np.array(base, dtype=np.float64)
        self.length = np.array(lengths, dtype=np.float64)

    def on_beat(self, idx: np.ndarray) -> np.ndarray:
        return np.asarray(self.of_unit[idx] >= 0)

    def positions(
        self, idx: np.ndarray, times: FloatArray, s0: float | None = None
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Positions (units that stand: their spot), speeds and bearings (nan when still)."""
        xy = np.array(self.home[idx], dtype=np.float64).reshape(len(idx), 2)
        speed = np.zeros(len(idx))
        bearing = np.full(len(idx), np.nan)
        on = self.of_unit[idx] >= 0
        if not on.any():
            return xy, speed, bearing
        b, u = self.of_unit[idx][on], idx[on]
        start = self.s0[u] if s0 is None else np.full(len(u), s0)
        length = self.length[b]
        s = np.mod(start + self.speed[u] * times[on], 2 * length)
        forward = s <= length
        g = self.base[b] + np.where(forward, s, 2 * length - s)
        k = np.clip(np.searchsorted(self.cum, g, side="right") - 1, self.first[b], self.stop[b] - 2)
        piece = self.vertices[k + 1] - self.vertices[k]
        f = np.clip((g - self.cum[k]) / np.maximum(self.cum[k + 1] - self.cum[k], 1e-9), 0, 1)
        xy[on] = self.vertices[k] + f[:, None] * piece
        speed[on] = self.speed[u]
        heading = np.where(forward[:, None], piece, -piece)
        bearing[on] = np.mod(np.degrees(np.arctan2(heading[:, 0], heading[:, 1])), 360.0)
        return xy, speed, bearing

    def anchor(self, i: int, t_s: float) -> Anchor:
        """Where unit ``i`` is on its post at ``t_s``: the spot it returns to after a call."""
        b = int(self.of_unit[i])
        if b < 0:
            return Anchor(np.array(self.home[i], dtype=np.float64), None, True)
        length = float(self.length[b])
        s = float(np.mod(self.s0[i] + self.speed[i] * t_s, 2 * length))
        xy, _, _ = self.positions(np.array([i]), np.array([t_s]))
        return Anchor(xy[0], s if s <= length else 2 * length - s, s <= length)

    def phase(self, i: int) -> float | None:
        return float(self.s0[i]) if self.of_unit[i] >= 0 else None

    def resume(self, i: int, anchor: Anchor, at_s: float) -> None:
        """Rejoin the beat at the anchor at ``at_s``, going the way the unit went before."""
        b = int(self.of_unit[i])
        if b < 0 or anchor.arc_m is None:
            return
        length = float(self.length[b])
        s = anchor.arc_m if anchor.forward else 2 * length - anchor.arc_m
        self.s0[i] = float(np.mod(s - self.speed[i] * at_s, 2 * length))
