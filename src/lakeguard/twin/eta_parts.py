"""What an ETA's error is made of: the twin knows where each unit truly was.

The error of one arrival is the travel taken (dispatch → on scene) minus the platform's
estimate made at dispatch. It splits exactly into four parts:

- ``turnout``: time before the unit set off, which the estimate leaves out (for a drone, its
  time beyond the launch the estimate already counts);
- ``position``: the free-flow time from where the unit truly was minus the free-flow time from
  where the platform believed it was (its last fresh report, else its home post);
- ``route_speed``: the trip the twin made minus the free-flow time from the true position
  (crowds slowing walkers, the walk to and from the network);
- ``model``: the free-flow time from the believed position minus the estimate (what the
  platform adds of its own: expected turnout, the range of places the unit may be by now,
  crowd slowing, snapping differences).

Free-flow times are ``TravelNetwork.travel_times`` without densities, the platform's own
network model. Means add up to the mean error; percentiles of parts do not add up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from lakeguard.twin.record import Dispatch
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import Mode

PARTS = ("turnout", "position", "route_speed", "model")


def split(dispatch: Dispatch, network: TravelNetwork) -> dict[str, float] | None:
    """One arrival's error and its parts in seconds; None without an estimate or positions."""
    if (
        dispatch.eta_s is None
        or dispatch.true_from is None
        or dispatch.believed_from is None
        or dispatch.scene is None
    ):
        return None
    mode = Mode(dispatch.mode)
    origins = [dispatch.true_from, dispatch.believed_from]
    free = network.travel_times(origins, [dispatch.scene], mode)
    free_true, free_believed = float(free[0, 0]), float(free[1, 0])
    if not (np.isfinite(free_true) and np.isfinite(free_believed)):
        return None
    launch = float(network.speeds.drone_launch_s) if mode == Mode.DRONE else 0.0
    took = dispatch.turnout_s + dispatch.travel_s
    covered = None if dispatch.eta_p90_s is None else float(took <= dispatch.eta_p90_s)
    return {
        "covered_by_p90": math.nan if covered is None else covered,
        "error": took - dispatch.eta_s,
        "turnout": dispatch.turnout_s - launch,
        "position": free_true - free_believed,
        "route_speed": dispatch.travel_s + launch - free_true,
        "model": free_believed - dispatch.eta_s,
    }


def summarise(rows: Iterable[dict[str, float]]) -> dict[str, Any]:
    """Mean, p50 and p90 of the error and of each part (signed seconds), and |error|."""
    rows = list(rows)
    if not rows:
        return {"n": 0}
    found: dict[str, Any] = {"n": len(rows)}
    for name in ("error", *PARTS):
        values = np.array([r[name] for r in rows])
        p50, p90 = np.percentile(values, [50, 90])
        found[name] = {
            "mean_s": round(float(values.mean()), 1),
            "p50_s": round(float(p50), 1),
            "p90_s": round(float(p90), 1),
        }
    absolute = np.abs([r["error"] for r in rows])
    p50, p90 = np.percentile(absolute, [50, 90])
    found["abs_error"] = {"p50_s": round(float(p50), 1), "p90_s": round(float(p90), 1)}
    covered = [r["covered_by_p90"] for r in rows if not math.isnan(r["covered_by_p90"])]
    # The share of arrivals within the predicted p90 (a range should cover about 90 %).
    found["p90_coverage"] = round(float(np.mean(covered)), 3) if covered else None
    return found


def eta_parts(
    dispatches: Iterable[Dispatch], arrived: set[tuple[int, str]], network: TravelNetwork
) -> dict[str, Any]:
    """The split over the arrivals the platform recorded, for all incidents and for those
    whose caller gave coordinates (a known point)."""
    rows: list[tuple[Dispatch, dict[str, float]]] = []
    for dispatch in dispatches:
        if (dispatch.incident_id, dispatch.unit_id) not in arrived:
            continue
        parts = split(dispatch, network)
        if parts is not None:
            rows.append((dispatch, parts))
    ages = [d.believed_age_s for d, _ in rows if d.believed_age_s is not None]
    return {
        "all": summarise(parts for _, parts in rows),
        "known_point": summarise(parts for d, parts in rows if d.pointed),
        "position_age_p50_s": round(float(np.median(ages)), 1) if ages else None,
        "never_reported": sum(1 for d, _ in rows if d.believed_age_s is None),
    }
