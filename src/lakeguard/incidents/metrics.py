"""Response-time intervals (NFPA 1710) and their percentiles (pure).

- processing: received → first unit dispatched
- turnout: a unit dispatched → en route (acknowledged)
- travel: a unit en route → on scene
- response: received → first unit on scene
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

INTERVALS = ("processing", "turnout", "travel", "response")
GROUPINGS = ("type", "area", "station", "unit")


@dataclass(frozen=True)
class IncidentTimes:
    incident_id: int
    type: str
    area_id: str | None
    station_id: str | None
    received_at: datetime
    assignments: Sequence[AssignmentTimes]


@dataclass(frozen=True)
class AssignmentTimes:
    unit_id: str
    dispatched_at: datetime
    acknowledged_at: datetime | None
    on_scene_at: datetime | None


@dataclass(frozen=True)
class Sample:
    interval: str
    seconds: float
    type: str
    area: str | None
    station: str | None
    unit: str | None  # set for per-unit intervals (turnout, travel)


def samples(incidents: Iterable[IncidentTimes]) -> list[Sample]:
    """Every measurable interval of every incident."""
    out: list[Sample] = []
    for inc in incidents:
        keys = (inc.type, inc.area_id, inc.station_id)
        if inc.assignments:
            first = min(a.dispatched_at for a in inc.assignments)
            out.append(Sample("processing", _s(inc.received_at, first), *keys, None))
        arrivals = [a.on_scene_at for a in inc.assignments if a.on_scene_at]
        if arrivals:
            out.append(Sample("response", _s(inc.received_at, min(arrivals)), *keys, None))
        for a in inc.assignments:
            if a.acknowledged_at:
                out.append(
                    Sample("turnout", _s(a.dispatched_at, a.acknowledged_at), *keys, a.unit_id)
                )
                if a.on_scene_at:
                    out.append(
                        Sample("travel", _s(a.acknowledged_at, a.on_scene_at), *keys, a.unit_id)
                    )
    return out


def _s(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def summarise(values: Sequence[float]) -> dict[str, float | int]:
    arr = np.asarray(values, dtype=float)
    return {
        "count": int(arr.size),
        "p50": round(float(np.percentile(arr, 50)), 1),
        "p90": round(float(np.percentile(arr, 90)), 1),
        "mean": round(float(arr.mean()), 1),
        "max": round(float(arr.max()), 1),
    }


def report(all_samples: Sequence[Sample], group_by: str | None = None) -> dict[str, object]:
    """Percentiles of each interval, overall or grouped by type, area, station or unit."""
    if group_by is not None and group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPINGS)}")
    buckets: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for sample in all_samples:
        key = "all" if group_by is None else getattr(sample, group_by)
        if key is None:
            continue
        buckets[str(key)][sample.interval].append(sample.seconds)
    return {
        key: {interval: summarise(values) for interval, values in intervals.items()}
        for key, intervals in sorted(buckets.items())
    }
