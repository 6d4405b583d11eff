"""Incidents arising from the crowd's exposure: Poisson arrivals by type, reported as callers would.

Each incident type has rates per visitor-hour of one or more exposure classes:

- ``all``: time spent in any area;
- ``crowded``: time in an area that is crowded in that step (density or occupancy against
  capacity, see :class:`~lakeguard.twin.incident_config.Crowding`);
- ``lakeside``: time in an area within ``lakeside_m`` of a water area (water areas included:
  people on boats);
- ``mountain``: time in a mountain-domain area.

Arrivals in a step are Poisson with mean ``Σ rate × visitor-hours`` per area, so the expected
count over any stretch of time is linear in the class totals: :func:`expected_counts` gives it
for a stated exposure, which is how the rates are calibrated and re-fitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import shapely

from lakeguard.incidents.gazetteer import Gazetteer, UnknownPlace
from lakeguard.twin.frame import CrowdFrame, FloatArray
from lakeguard.twin.incident_config import (
    NUMBER_SLOTS,
    IncidentConfig,
    IncidentType,
    Template,
)
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import NETWORK_MODES, Domain, Mode

# Opened by the platform's crowd plans themselves, never reported by a caller in the twin.
PLATFORM_ONLY = frozenset({"crowd_crush_risk"})
CLASSES = ("all", "crowded", "lakeside", "mountain")
# Callers on the platform's app and patrols send a position; others may name a place.
LOCATING_SOURCES = frozenset({"app", "patrol"})
_NUMBER_RANGES = {"minutes": (5, 60), "amount": (200, 8000)}


@dataclass(frozen=True)
class TwinIncident:
    """One incident as a caller reports it, plus the truth the report is judged against."""

    seq: int  # 1, 2, ... in order of arrival for the day
    t_s: float  # when the call comes in
    type: str  # response plan code
    area_id: str  # the truth, whatever the caller says
    lon: float | None
    lat: float | None
    place: str | None  # exactly one way of locating it: lon/lat or place
    description: str
    source: str
    caller: dict[str, str]
    handling_s: float  # on scene until resolved


@dataclass(frozen=True)
class Exposure:
    """Visitor-hours by exposure class over some stretch of time."""

    all_h: float = 0.0
    crowded_h: float = 0.0
    lakeside_h: float = 0.0
    mountain_h: float = 0.0

    def __add__(self, other: Exposure) -> Exposure:
        return Exposure(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def scaled(self, factor: float) -> Exposure:
        return Exposure(*(getattr(self, f.name) * factor for f in fields(self)))

    def of(self, exposure_class: str) -> float:
        return float(getattr(self, f"{exposure_class}_h"))


def expected_counts(config: IncidentConfig, exposure: Exposure, *, dry: bool) -> dict[str, float]:
    """Expected incidents of each type for a given exposure (on dry or wet days)."""
    return {
        code: 0.0
        if kind.dry_only and not dry
        else sum(rate * exposure.of(cls) for cls, rate in kind.rates.items())
        for code, kind in config.types.items()
    }


@dataclass(frozen=True)
class HalfYear:
    """What the calibration's measured days give over half a year."""

    counts: dict[str, float]
    crime_free_days: float  # expected days without a theft or a fight
    ordinary_day: Exposure
    peak_day: Exposure


def half_year_expectation(config: IncidentConfig) -> HalfYear:
    """Expected counts over the calibration's half year of ordinary and peak days."""
    cal = config.calibration
    days = {"ordinary": cal.half_year_days - cal.peak_days, "peak": cal.peak_days}
    totals: dict[str, float] = dict.fromkeys(config.types, 0.0)
    crime_free = 0.0
    per_day = {}
    for kind, n in days.items():
        measured = cal.ordinary if kind == "ordinary" else cal.peak
        day = Exposure(measured.all_h, measured.crowded_h, measured.lakeside_h, measured.mountain_h)
        per_day[kind] = day
        for dry, share in ((True, cal.dry_share), (False, 1 - cal.dry_share)):
            counts = expected_counts(config, day, dry=dry)
            for code, value in counts.items():
                totals[code] += n * share * value
            crimes = counts.get("theft", 0.0) + counts.get("fight_dispute", 0.0)
            crime_free += n * share * float(np.exp(-crimes))
    return HalfYear(totals, crime_free, per_day["ordinary"], per_day["peak"])


def day_exposure(
    scenario: Scenario, network: TravelNetwork, *, visitors: int, seed: int
) -> Exposure:
    """A whole day's visitor-hours by exposure class, from the visitor model (what the rates
    in ``[calibration]`` are fitted to)."""
    from lakeguard.twin.visitors import VisitorModel

    crowd = VisitorModel(scenario, network, visitors=visitors, seed=seed)
    classes = IncidentModel(scenario, network, seed=seed)
    total = Exposure()
    for _ in range(1440):
        frame = crowd.step(60.0)
        total = total + classes.exposure_of(frame.exposure_s, classes.crowded(frame))
    return total


class IncidentModel:
    """Incidents of one venue day, drawn step by step from the crowd's exposure."""

    def __init__(
        self,
        scenario: Scenario,
        network: TravelNetwork,
        *,
        seed: int,
        dry: bool = False,
        config: IncidentConfig | None = None,
    ) -> None:
        self.config = config or IncidentConfig.for_scenario(scenario.source)
        self.dry = dry
        self.rng = np.random.default_rng(seed)
        self.network = network
        self.areas = scenario.areas
        self.area_ids = tuple(a.id for a in scenario.areas)
        self._check_codes(scenario)
        self.codes = tuple(self.config.types)
        self.usable_m2 = np.array([a.usable_m2 for a in self.areas], dtype=np.float64)
        self.capacity = np.array([a.capacity or np.inf for a in self.areas], dtype=np.float64)
        self.lakeside = lakeside_areas(scenario, network, self.config.exposure.lakeside_m)
        self.mountain = np.array([a.domain == Domain.MOUNTAIN for a in self.areas])
        static = {
            "all": np.ones(len(self.areas)),
            "lakeside": self.lakeside,
            "mountain": self.mountain,
        }
        # Rates that depend on the area alone; the crowded rate is added step by step.
        self._static_rate = np.zeros((len(self.codes), len(self.areas)))
        for row, kind in enumerate(self.config.types.values()):
            for cls, rate in kind.rates.items():
                if cls in static:
                    self._static_rate[row] += rate * static[cls]
        self._crowd_rate = np.array(
            [k.rates.get("crowded", 0.0) for k in self.config.types.values()]
        )
        self._off_today = np.array([k.dry_only and not dry for k in self.config.types.values()])
        self.exposure = Exposure()
        self._locator = _Locator(scenario, network, self.rng)
        self._seq = 0

    def _check_codes(self, scenario: Scenario) -> None:
        if scenario.plans is None:
            raise ValueError("the scenario has no response plans (plans.toml)")
        plan_codes = {plan.code for plan in scenario.plans.plans}
        unknown = sorted(set(self.config.types) - plan_codes)
        if unknown:
            raise ValueError(f"incident types not in the response plans: {unknown}")
        platform = sorted(set(self.config.types) & PLATFORM_ONLY)
        if platform:
            raise ValueError(f"the platform opens these itself; the twin must not: {platform}")

    def crowded(self, frame: CrowdFrame) -> np.ndarray:
        """Which areas count as crowded at the end of a step."""
        crowding = self.config.exposure.crowding
        occupancy = frame.occupancy.astype(np.float64)
        return (occupancy / self.usable_m2 >= crowding.density_p_m2) | (
            occupancy >= crowding.capacity_ratio * self.capacity
        )

    def exposure_of(self, exposure_s: FloatArray, crowded: np.ndarray) -> Exposure:
        """Class totals of one step's visitor-seconds by area."""
        hours = np.asarray(exposure_s, dtype=np.float64) / 3600.0
        return Exposure(
            float(hours.sum()),
            float(hours[crowded].sum()),
            float(hours[self.lakeside].sum()),
            float(hours[self.mountain].sum()),
        )

    def expected(self) -> dict[str, float]:
        """Expected counts for the exposure seen so far (to compare with what was drawn)."""
        return expected_counts(self.config, self.exposure, dry=self.dry)

    def step(self, frame: CrowdFrame) -> list[TwinIncident]:
        """Arrivals in ``(frame.t_s - frame.dt_s, frame.t_s]``, sorted by time."""
        if frame.area_ids != self.area_ids:
            raise ValueError("the frame's areas are not the scenario's areas in file order")
        crowded = self.crowded(frame)
        self.exposure = self.exposure + self.exposure_of(frame.exposure_s, crowded)
        hours = np.asarray(frame.exposure_s, dtype=np.float64) / 3600.0
        mean = (self._static_rate + np.outer(self._crowd_rate, crowded)) * hours[None, :]
        mean[self._off_today] = 0.0
        counts = self.rng.poisson(np.maximum(mean, 0.0))
        drawn: list[tuple[float, int, int]] = []
        for t, a in zip(*np.nonzero(counts), strict=True):
            times = frame.t_s - frame.dt_s * self.rng.random(int(counts[t, a]))
            drawn += [(float(x), int(t), int(a)) for x in times]
        drawn.sort()
        incidents = []
        for t_s, t, a in drawn:
            self._seq += 1
            incidents.append(self._report(self._seq, t_s, self.codes[t], a))
        return incidents

    def _report(self, seq: int, t_s: float, code: str, area: int) -> TwinIncident:
        kind = self.config.types[code]
        rng = self.rng
        sources = list(kind.sources)
        weights = np.array([kind.sources[s] for s in sources], dtype=np.float64)
        source = sources[int(rng.choice(len(sources), p=weights / weights.sum()))]
        lon = lat = None
        place = None
        names = self._locator.names[area]
        if source not in LOCATING_SOURCES and names and rng.random() < kind.place_share:
            place = names[int(rng.integers(len(names)))]
        else:
            lon, lat = self._locator.point(area, Mode(kind.network))
        handling = kind.handling.median_s * float(np.exp(kind.handling.sigma * rng.normal()))
        return TwinIncident(
            seq=seq,
            t_s=t_s,
            type=code,
            area_id=self.area_ids[area],
            lon=lon,
            lat=lat,
            place=place,
            description=self._describe(kind, area),
            source=source,
            caller=self._caller(source),
            handling_s=float(np.clip(handling, kind.handling.min_s, kind.handling.max_s)),
        )

    def _describe(self, kind: IncidentType, area: int) -> str:
        rng = self.rng
        template: Template = kind.templates[int(rng.integers(len(kind.templates)))]
        zh: dict[str, object] = {}
        en: dict[str, object] = {}
        name = self.areas[area].name
        zh["place"], en["place"] = name.zh, name.en
        for slot in template.slots():
            if slot in self.config.words.lists:
                words = self.config.words.lists[slot]
                zh[slot], en[slot] = words[int(rng.integers(len(words)))]
            elif slot in NUMBER_SLOTS:
                low, high = kind.ages if slot == "age" else _NUMBER_RANGES[slot]
                value = int(rng.integers(low, high + 1))
                value = value // 100 * 100 if slot == "amount" else value
                zh[slot] = en[slot] = value
        return f"{template.zh.format(**zh)}（{template.en.format(**en)}）"

    def _caller(self, source: str) -> dict[str, str]:
        rng = self.rng
        if source == "patrol":
            return {"name": "巡逻警力 (patrol)", "role": "patrol"}
        surname_zh, surname_en = self.config.words.surnames[
            int(rng.integers(len(self.config.words.surnames)))
        ]
        female = bool(rng.random() < 0.5)
        title_zh, title_en = ("女士", "Ms") if female else ("先生", "Mr")
        prefix = ("13", "15", "17", "18", "19")[int(rng.integers(5))]
        phone = prefix + "".join(str(d) for d in rng.integers(0, 10, 9))
        caller = {"name": f"{surname_zh}{title_zh} ({title_en} {surname_en})", "phone": phone}
        if source == "resident_group":
            caller["channel"] = "警民联络群 (liaison group)"
        return caller


def lakeside_areas(scenario: Scenario, network: TravelNetwork, within_m: float) -> np.ndarray:
    """Areas within ``within_m`` of a water area, water areas included."""
    shapes = [network.projection.geometry_to_xy(a.shape) for a in scenario.areas]
    water = [s for s, a in zip(shapes, scenario.areas, strict=True) if a.domain == Domain.WATER]
    if not water:
        return np.zeros(len(shapes), dtype=bool)
    lake = shapely.union_all(water)
    return np.asarray(shapely.distance(shapes, lake) <= within_m, dtype=bool)


class _Locator:
    """Where in an area an incident lies, and the names a caller could give for the area."""

    def __init__(self, scenario: Scenario, network: TravelNetwork, rng: np.random.Generator):
        self.network = network
        self.rng = rng
        self.shapes = [a.shape for a in scenario.areas]
        self.names = _area_names(scenario)
        self._edges: dict[tuple[int, Mode], tuple[np.ndarray, FloatArray]] = {}
        for mode in NETWORK_MODES:
            on_mode = network.edge_modes[:, NETWORK_MODES.index(mode)]
            for area in range(len(scenario.areas)):
                edges = np.flatnonzero(on_mode & (network.edge_area == area))
                if len(edges):
                    length = network.edge_length[edges]
                    self._edges[(area, mode)] = (edges, length / length.sum())

    def point(self, area: int, mode: Mode) -> tuple[float, float]:
        """A point on the area's paths of ``mode`` (or of any network), inside the area."""
        for option in (mode, Mode.WALK, Mode.BOAT, Mode.VEHICLE):
            if (area, option) not in self._edges:
                continue
            edges, weights = self._edges[(area, option)]
            for _ in range(20):
                edge = int(edges[self.rng.choice(len(edges), p=weights)])
                a = self.network.node_xy[self.network.edge_u[edge]]
                b = self.network.node_xy[self.network.edge_v[edge]]
                x, y = a + self.rng.random() * (b - a)
                lon, lat = self.network.projection.to_lonlat(float(x), float(y))
                if self.shapes[area].contains(shapely.Point(lon, lat)):
                    return round(float(lon), 7), round(float(lat), 7)
        spot = self.shapes[area].representative_point()
        return round(float(spot.x), 7), round(float(spot.y), 7)


def _area_names(scenario: Scenario) -> list[Sequence[str]]:
    """Per area, what callers may say: its names and aliases that resolve back to it."""
    gazetteer = Gazetteer.from_scenario(scenario)
    names: list[Sequence[str]] = []
    for area in scenario.areas:
        spoken = []
        for label in (area.name.zh, area.name.en, *area.aliases):
            variants = [label, f"{label}附近"] if not label.isascii() else [label]
            for said in variants:
                try:
                    if gazetteer.resolve(said).area_id == area.id:
                        spoken.append(said)
                except UnknownPlace:
                    continue
        names.append(tuple(spoken))
    return names
