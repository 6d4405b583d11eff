"""The West Lake deployment: 300 police units and 1,700 security guards placed by post (pure).

Figures from the source report (westlake.md): the specialised teams (plainclothes team, drone
squad, mountain patrol team, water PTU), the 17 points and 46 segments, and 1,700+ guards from
the area's security companies. How many stand where is a model: points get at least their
``min_units``, posts at hotspots and entrances get more, segments spread their units along
the line, and every unit that travels on a network stands within reach of it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point

from lakeguard.forces.engine import Capability, UnitKind, post_location
from lakeguard.venue.checks import build_network
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.schema import Area, AreaKind, Domain, Mode, Post, SensorKind

POLICE_UNITS = 300
GUARD_UNITS = 1700
DRONES = 10  # drone squad, shared out over the drone stations
BOATS = 12  # water PTU
PATROL_CARS = 16
PLAINCLOTHES_OFFICERS = 24
PLAINCLOTHES_TEAMS = 4  # roaming, no home post
OFFICER_SHARE = 0.45  # of the police at posts; the rest are auxiliaries (辅警)
NEAR_NETWORK_M = 40.0  # units on foot stand at most this far from the walk network
CROWDED = (AreaKind.HOTSPOT, AreaKind.ENTRANCE)

C = Capability


@dataclass(frozen=True)
class CompanySpec:
    id: str
    code: str  # callsign prefix
    name: dict[str, str]
    short: dict[str, str]  # for unit names


def _company(
    company_id: str, code: str, name: tuple[str, str], short: tuple[str, str]
) -> CompanySpec:
    return CompanySpec(
        company_id,
        code,
        {"zh": f"{name[0]}（模型）", "en": f"{name[1]} (model)"},
        {"zh": short[0], "en": short[1]},
    )


MODEL_COMPANIES: tuple[CompanySpec, ...] = (
    _company("xihu-security", "XHS", ("西湖保安服务公司", "West Lake Guard Services"),
             ("西湖", "West Lake")),
    _company("qiantang-security", "QTS", ("钱塘安保公司", "Qiantang Security"),
             ("钱塘", "Qiantang")),
    _company("lingyin-security", "LYS", ("灵隐景区安保公司", "Lingyin Heritage Security"),
             ("灵隐", "Lingyin")),
    _company("xixi-security", "XXS", ("西溪湿地安保公司", "Xixi Wetland Security"),
             ("西溪", "Xixi")),
)  # fmt: skip
# Which company guards the posts of each station (model); others fall to the first company.
COMPANY_OF_STATION = {
    "yuemiao": "xihu-security",
    "liulang": "xihu-security",
    "hubin": "qiantang-security",
    "lingyin": "lingyin-security",
    "xixi": "xixi-security",
}
STATION_CODES = {"yuemiao": "YM", "lingyin": "LY", "liulang": "LL", "hubin": "HB", "xixi": "XX"}


@dataclass(frozen=True)
class UnitSpec:
    """One unit to store: who it is and where it stands."""

    id: str
    callsign: str
    name: dict[str, str]
    kind: UnitKind
    mode: Mode
    capabilities: tuple[Capability, ...]
    station: str | None
    company: str | None
    home_post: str | None
    shift: str
    lon: float
    lat: float
    label: str | None = None


def westlake_deployment(
    scenario: Scenario, rng: np.random.Generator, *, network: TravelNetwork | None = None
) -> list[UnitSpec]:
    """Every police unit and guard of the model deployment; the same for the same seed."""
    network = network or build_network(scenario.network, scenario.config, scenario.areas)
    builder = _Deployment(scenario, network, rng)
    builder.drone_squad()
    builder.water_ptu()
    builder.mountain_teams()
    builder.patrol_cars()
    builder.plainclothes()
    builder.posted_police(POLICE_UNITS - len(builder.units))
    builder.guards(GUARD_UNITS)
    return builder.units


def apportion(total: int, weights: Sequence[float], minimum: Sequence[int]) -> list[int]:
    """Share ``total`` out: each its minimum, the rest by weight (largest remainder)."""
    left = total - sum(minimum)
    if left < 0:
        raise ValueError(f"{total} cannot cover the minimums, which add up to {sum(minimum)}")
    weight_sum = sum(weights)
    shares = [left * w / weight_sum for w in weights] if weight_sum else [0.0] * len(weights)
    counts = [math.floor(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[: left - sum(counts)]:
        counts[i] += 1
    return [m + c for m, c in zip(minimum, counts, strict=True)]


class _Deployment:
    def __init__(self, scenario: Scenario, network: TravelNetwork, rng: np.random.Generator):
        self.scenario, self.network, self.rng = scenario, network, rng
        self.units: list[UnitSpec] = []
        self._numbers: dict[str, int] = defaultdict(int)
        self.stations = {s.id: s for s in scenario.stations}
        self.area_of = _post_areas(scenario)
        self.land = [p for p in scenario.posts if p.domain in (Domain.LAND, Domain.MOUNTAIN)]

    # -- the specialised teams ----------------------------------------------------------

    def drone_squad(self) -> None:
        bases = [s for s in self.scenario.sensors if s.kind == SensorKind.DRONE_STATION]
        air = [p for p in self.scenario.posts if p.domain == Domain.AIR]
        areas = {a.id: a for a in self.scenario.areas}
        for i in range(DRONES if bases else 0):
            base = bases[i % len(bases)]
            here = Point(base.geometry["coordinates"])
            nearest = sorted(air, key=lambda p: p.shape.distance(here))
            post = nearest[(i // len(bases)) % len(nearest)] if nearest else None
            lon, lat = base.geometry["coordinates"]
            self._add(UnitKind.DRONE, Mode.DRONE, (C.DRONE,), areas[base.area].station, post,
                      (lon, lat), callsign=f"UAV-{i + 1:02d}", label="standby",
                      name=("无人机", "Drone"))  # fmt: skip

    def water_ptu(self) -> None:
        water = [p for p in self.scenario.posts if p.domain == Domain.WATER]
        counts = apportion(BOATS, [self._length_km(p) for p in water], [1] * len(water))
        number = 0
        for post, n in zip(water, counts, strict=True):
            for lonlat in self._along(post, n, Mode.BOAT, limit_m=0):
                number += 1
                self._add(UnitKind.BOAT, Mode.BOAT, (C.WATER_RESCUE, C.FIRST_AID), post.station,
                          post, lonlat, callsign=f"PTU-{number:02d}", label="on_patrol",
                          name=("水上PTU巡逻艇", "Water PTU boat"))  # fmt: skip

    def mountain_teams(self) -> None:
        mountain = [p for p in self.land if p.domain == Domain.MOUNTAIN]
        for i, post in enumerate(mountain):
            (lonlat,) = self._along(post, 1, Mode.WALK)
            self._add(UnitKind.TEAM, Mode.WALK, (C.MOUNTAIN, C.FIRE, C.FIRST_AID, C.SEARCH),
                      post.station, post, lonlat, callsign=f"MT-{i + 1:02d}", label="on_patrol",
                      name=("山地巡逻队", "Mountain patrol team"))  # fmt: skip

    def patrol_cars(self) -> None:
        limit = self.scenario.config.network.max_snap_m
        roads = [p for p in self.land if _max_distance(self.network, p, Mode.VEHICLE) <= limit]
        counts = apportion(PATROL_CARS, [self._length_km(p) for p in roads], [1] * len(roads))
        for post, n in zip(roads, counts, strict=True):
            for lonlat in self._along(post, n, Mode.VEHICLE, limit_m=0):
                self._add(UnitKind.PATROL_CAR, Mode.VEHICLE, (C.VEHICLE, C.FIRST_AID, C.TRAFFIC),
                          post.station, post, lonlat, letter="C", label="on_patrol",
                          name=("巡逻车", "patrol car"))  # fmt: skip

    def plainclothes(self) -> None:
        hotspots = [p for p in self.land if self._crowded(p, (AreaKind.HOTSPOT,))]
        hotspots.sort(key=lambda p: (-(self._area(p).capacity or 0), p.id))
        for i in range(PLAINCLOTHES_OFFICERS if hotspots else 0):
            post = hotspots[i % len(hotspots)]
            lonlat = self._near(post_location(post), 30.0, Mode.WALK)
            self._add(UnitKind.PLAINCLOTHES, Mode.WALK, (C.PLAINCLOTHES, C.FIRST_AID),
                      post.station, post, lonlat, letter="B", label="on_patrol",
                      name=("便衣民警", "plainclothes officer"))  # fmt: skip
        for i, post in enumerate(hotspots[:PLAINCLOTHES_TEAMS]):
            lonlat = self._near(post_location(post), 30.0, Mode.WALK)
            self._add(UnitKind.TEAM, Mode.WALK, (C.PLAINCLOTHES, C.CROWD_CONTROL), post.station,
                      None, lonlat, callsign=f"PCT-{i + 1:02d}", label="on_patrol",
                      name=("便衣队", "Plainclothes team"), shift="08:00-22:00")  # fmt: skip

    # -- the posts ------------------------------------------------------------------------

    def posted_police(self, total: int) -> None:
        """Officers and auxiliaries at the land and mountain posts, two shifts at 24 h posts."""
        shifts = [2 if p.staffing.hours == "24h" else 1 for p in self.land]
        minimum = [p.staffing.min_units * s for p, s in zip(self.land, shifts, strict=True)]
        weights = [
            m * (3.0 if self._crowded(p) else 1.0) * max(1.0, self._length_km(p))
            for p, m in zip(self.land, minimum, strict=True)
        ]
        for post, n in zip(self.land, apportion(total, weights, minimum), strict=True):
            officers = max(1, round(n * OFFICER_SHARE)) if n else 0
            radius = 15.0
            for i, lonlat in enumerate(self._spread(post, n, radius)):
                kind = UnitKind.OFFICER if i < officers else UnitKind.AUXILIARY
                caps = [C.CROWD_CONTROL]
                if kind == UnitKind.OFFICER or self.rng.random() < 0.4:
                    caps.append(C.FIRST_AID)
                if post.domain == Domain.MOUNTAIN:
                    caps.append(C.MOUNTAIN)
                word = ("民警", "officer") if kind == UnitKind.OFFICER else ("辅警", "auxiliary")
                self._add(kind, Mode.WALK, tuple(caps), post.station, post, lonlat,
                          letter="P" if kind == UnitKind.OFFICER else "A", name=word,
                          label=_label(post), shift=_shift(post, i))  # fmt: skip

    def guards(self, total: int) -> None:
        """Guards at every land post, many more at hotspots and entrances."""
        posts = [p for p in self.land if p.domain == Domain.LAND]
        minimum = [p.staffing.min_units for p in posts]
        weights = [
            m * (6.0 if self._crowded(p) else 1.0) * math.sqrt(max(1.0, self._length_km(p)))
            for p, m in zip(posts, minimum, strict=True)
        ]
        companies = {c.id: c for c in MODEL_COMPANIES}
        for post, n in zip(posts, apportion(total, weights, minimum), strict=True):
            company = companies[COMPANY_OF_STATION.get(post.station, MODEL_COMPANIES[0].id)]
            for i, lonlat in enumerate(self._spread(post, n, 40.0)):
                caps = [C.CROWD_CONTROL]
                if self.rng.random() < 0.3:
                    caps.append(C.FIRST_AID)
                if self.rng.random() < 0.1:
                    caps.append(C.FIRE)
                self._numbers[company.code] += 1
                number = self._numbers[company.code]
                self.units.append(UnitSpec(
                    id=f"{company.code.lower()}-{number:04d}",
                    callsign=f"{company.code}-{number:04d}",
                    name={"zh": f"{company.short['zh']}保安 {number:04d}",
                          "en": f"{company.short['en']} guard {number:04d}"},
                    kind=UnitKind.SECURITY_GUARD, mode=Mode.WALK, capabilities=tuple(caps),
                    station=None, company=company.id, home_post=post.id, shift=_shift(post, i),
                    lon=lonlat[0], lat=lonlat[1], label=_label(post),
                ))  # fmt: skip

    # -- helpers --------------------------------------------------------------------------

    def _add(
        self,
        kind: UnitKind,
        mode: Mode,
        capabilities: tuple[Capability, ...],
        station: str,
        post: Post | None,
        lonlat: tuple[float, float],
        *,
        name: tuple[str, str],
        callsign: str | None = None,
        letter: str = "",
        label: str | None = None,
        shift: str | None = None,
    ) -> None:
        code = STATION_CODES.get(station, station[:3].upper())
        if callsign is None:
            self._numbers[f"{code}-{letter}"] += 1
            callsign = f"{code}-{letter}{self._numbers[f'{code}-{letter}']:02d}"
        number = callsign.rsplit("-", 1)[1].lstrip(letter)
        where = self.stations[station].name
        place_zh, place_en = (
            where.zh.removesuffix("派出所"),
            where.en.removesuffix(" Police Station"),
        )
        specialised = kind in (UnitKind.DRONE, UnitKind.BOAT, UnitKind.TEAM)
        self.units.append(UnitSpec(
            id=callsign.lower(), callsign=callsign,
            name={"zh": f"{'' if specialised else place_zh}{name[0]} {number}",
                  "en": f"{'' if specialised else place_en + ' '}{name[1]} {number}"},
            kind=kind, mode=mode, capabilities=capabilities, station=station, company=None,
            home_post=post.id if post else None,
            shift=shift or (_shift(post, 0) if post else "24h"),
            lon=lonlat[0], lat=lonlat[1], label=label,
        ))  # fmt: skip

    def _length_km(self, post: Post) -> float:
        """A post's length in km; a point counts as 1 km, one unit's worth of ground."""
        if post.kind == "point":
            return 1.0
        return float(self.network.projection.geometry_to_xy(post.shape).length) / 1000

    def _area(self, post: Post) -> Area:
        area = self.area_of.get(post.id)
        if area is None:
            raise LookupError(f"post {post.id} lies in no area")
        return area

    def _crowded(self, post: Post, kinds: Sequence[AreaKind] = CROWDED) -> bool:
        area = self.area_of.get(post.id)
        return area is not None and area.kind in kinds

    def _spread(self, post: Post, n: int, radius_m: float) -> list[tuple[float, float]]:
        if post.kind == "point":
            return [self._near(post_location(post), radius_m, Mode.WALK) for _ in range(n)]
        return self._along(post, n, Mode.WALK)

    def _near(
        self, lonlat: tuple[float, float], radius_m: float, mode: Mode
    ) -> tuple[float, float]:
        """A spot within ``radius_m`` of a place, pulled onto the network if too far from it."""
        angle, r = self.rng.uniform(0, 2 * math.pi), radius_m * math.sqrt(self.rng.random())
        xy = self.network.to_xy([lonlat])[0] + [r * math.cos(angle), r * math.sin(angle)]
        return self._fit(xy, mode, NEAR_NETWORK_M)

    def _along(
        self, post: Post, n: int, mode: Mode, *, limit_m: float = NEAR_NETWORK_M
    ) -> list[tuple[float, float]]:
        """``n`` spots spread evenly along a post's line, each jittered within its stretch."""
        line = self.network.projection.geometry_to_xy(post.shape)
        spots = []
        for i in range(n):
            if post.kind == "point":
                xy = np.array([line.x, line.y])
            else:
                point = line.interpolate((i + self.rng.uniform(0.25, 0.75)) / n, normalized=True)
                xy = np.array([point.x, point.y]) + self.rng.uniform(-5, 5, 2)
            spots.append(self._fit(xy, mode, limit_m))
        return spots

    def _fit(self, xy: np.ndarray, mode: Mode, limit_m: float) -> tuple[float, float]:
        snap = self.network.snap_xy(np.atleast_2d(xy), mode)
        if snap.distance_m[0] > limit_m:
            edge, f = int(snap.edge[0]), float(snap.fraction[0])
            a = self.network.node_xy[self.network.edge_u[edge]]
            b = self.network.node_xy[self.network.edge_v[edge]]
            xy = a + f * (b - a)
        lon, lat = self.network.projection.to_lonlat(float(xy[0]), float(xy[1]))
        return round(float(lon), 7), round(float(lat), 7)


def _post_areas(scenario: Scenario) -> dict[str, Area]:
    """The area each post lies in (its point, or its segment's midpoint)."""
    shapes = [a.shape for a in scenario.areas]
    tree = shapely.STRtree(shapes)
    found = {}
    for post in scenario.posts:
        here = Point(post_location(post))
        hits = [int(i) for i in tree.query(here, predicate="within")]
        if hits:
            found[post.id] = scenario.areas[min(hits)]
    return found


def _max_distance(network: TravelNetwork, post: Post, mode: Mode) -> float:
    coords = (
        [post.geometry["coordinates"]] if post.kind == "point" else post.geometry["coordinates"]
    )
    return float(network.snap(np.asarray(coords, dtype=float), mode).distance_m.max())


def _label(post: Post) -> str:
    return "at_post" if post.kind == "point" else "on_patrol"


def _shift(post: Post, index: int) -> str:
    """The post's hours; a 24 h post is worked in a day shift and a night shift."""
    if post.staffing.hours != "24h":
        return post.staffing.hours
    return "08:00-20:00" if index % 2 == 0 else "20:00-08:00"
