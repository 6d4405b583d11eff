"""What each scenario file may contain: venue.toml and the properties of each GeoJSON layer.

Field descriptions here are the source of ``docs/scenario.md``; keep the two in step.
"""

from __future__ import annotations

import re
import zoneinfo
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
HOURS_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")
OUTSIDE = "outside"  # the far side of a counting line on the venue's edge
LonLat = tuple[Annotated[float, Field(ge=-180, le=180)], Annotated[float, Field(ge=-90, le=90)]]


class Domain(StrEnum):
    """The four patrol domains of the West Lake model: 空域-山域-地域-水域."""

    AIR = "air"
    MOUNTAIN = "mountain"
    LAND = "land"
    WATER = "water"


class Mode(StrEnum):
    """How a unit travels. Drones fly straight lines; the others follow the network."""

    WALK = "walk"
    VEHICLE = "vehicle"
    BOAT = "boat"
    DRONE = "drone"


NETWORK_MODES = (Mode.WALK, Mode.VEHICLE, Mode.BOAT)

# Which network a post of each domain is reached on; air posts need none.
DOMAIN_MODE: dict[Domain, Mode | None] = {
    Domain.LAND: Mode.WALK,
    Domain.MOUNTAIN: Mode.WALK,
    Domain.WATER: Mode.BOAT,
    Domain.AIR: None,
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Name(Strict):
    """A display name in Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Speeds(Strict):
    walk: float = Field(1.34, gt=0, le=10, description="free walking speed, m/s")
    vehicle: float = Field(8.3, gt=0, le=60, description="patrol vehicle speed, m/s")
    boat: float = Field(5.0, gt=0, le=40, description="patrol boat speed, m/s")
    drone: float = Field(12.0, gt=0, le=60, description="drone cruise speed, m/s")
    drone_launch_s: float = Field(60.0, ge=0, le=900, description="call to airborne, s")

    def of(self, mode: Mode) -> float:
        """Speed of a mode in m/s."""
        return float(getattr(self, mode.value))


class NetworkSettings(Strict):
    densify_m: float = Field(25.0, gt=1, le=500, description="longest network piece, m")
    node_tolerance_m: float = Field(
        1.0, ge=0, le=10, description="vertices closer than this are one junction, m"
    )
    max_snap_m: float = Field(
        60.0, gt=0, le=1000, description="a post further from its network is unreachable, m"
    )


class VenueConfig(Strict):
    """The contents of venue.toml."""

    id: Slug
    name: Name
    timezone: str
    description: str = ""
    speeds: Speeds = Speeds()
    network: NetworkSettings = NetworkSettings()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value


class Feature(Strict):
    """Common to every feature: an id and a GeoJSON geometry."""

    id: Slug
    geometry: dict[str, Any]
    _shape: BaseGeometry | None = PrivateAttr(None)

    @property
    def shape(self) -> BaseGeometry:
        """The geometry as a shapely object in lon/lat (built once)."""
        if self._shape is None:
            self._shape = shape(self.geometry)
        return self._shape


class AreaKind(StrEnum):
    HOTSPOT = "hotspot"
    ZONE = "zone"
    WATER = "water"
    TRAIL = "trail"
    ENTRANCE = "entrance"
    PLAZA = "plaza"
    ISLAND = "island"


class Area(Feature):
    name: Name
    aliases: tuple[str, ...] = ()
    domain: Domain
    kind: AreaKind
    station: Slug
    usable_m2: float = Field(gt=0)
    space_per_visitor_m2: float | None = Field(None, gt=0)
    capacity: int | None = Field(None, gt=0)
    empty_hours: tuple[str, ...] = Field(
        (),
        description="local times when the area is closed and empty (`HH:MM-HH:MM`, may run "
        "past midnight); the crowd estimate leans softly towards zero then",
    )
    description: str = ""

    @field_validator("empty_hours")
    @classmethod
    def _hours_spans(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for span in value:
            if not HOURS_PATTERN.match(span):
                raise ValueError(f"{span!r} is not a local time span HH:MM-HH:MM")
        return value

    def empty_at(self, minute_of_day: int) -> bool:
        """Whether a local minute of the day (0–1439) falls in one of the empty hours."""
        for span in self.empty_hours:
            start, end = (int(t[:2]) * 60 + int(t[3:]) for t in span.split("-"))
            inside = (
                start <= minute_of_day < end
                if start <= end
                else (minute_of_day >= start or minute_of_day < end)
            )
            if inside:
                return True
        return False


class Station(Feature):
    name: Name
    location: LonLat
    description: str = ""


class Staffing(Strict):
    hours: str = Field(pattern=r"^(24h|([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d)$")
    min_units: int = Field(1, ge=0, le=100)


class Post(Feature):
    name: Name
    kind: Literal["point", "segment"]
    station: Slug
    domain: Domain
    staffing: Staffing
    description: str = ""


class SensorKind(StrEnum):
    GATE = "gate"
    CAMERA = "camera"
    DRONE_STATION = "drone_station"
    CHECKPOINT = "checkpoint"


SENSOR_GEOMETRY: dict[SensorKind, str] = {
    SensorKind.GATE: "LineString",
    SensorKind.CAMERA: "Polygon",
    SensorKind.DRONE_STATION: "Point",
    SensorKind.CHECKPOINT: "Point",
}


class Sensor(Feature):
    name: Name
    kind: SensorKind
    area: Slug
    beyond: Slug | None = Field(
        None,
        description="gates and checkpoints: the area on the other side of the line, where "
        "`out` goes and `in` comes from; `outside` on the venue's edge; the sensor's own area "
        "for a line drawn inside its area, which counts flow but moves nobody between areas",
    )
    mount: LonLat | None = None
    description: str = ""

    @property
    def counts_line(self) -> bool:
        """Gates and checkpoints count people crossing a line between two areas."""
        return self.kind in (SensorKind.GATE, SensorKind.CHECKPOINT)


class NetworkLine(Feature):
    modes: tuple[Mode, ...] = Field(min_length=1)
    width_m: float | None = Field(None, gt=0)
    name: Name | None = None

    @field_validator("modes")
    @classmethod
    def _network_modes_only(cls, value: tuple[Mode, ...]) -> tuple[Mode, ...]:
        if Mode.DRONE in value:
            raise ValueError("drones fly straight lines; 'drone' is not a network mode")
        if len(set(value)) != len(value):
            raise ValueError("a mode is listed twice")
        return value


# Each layer file, the model of its features and the geometry types it accepts.
LAYERS: dict[str, tuple[type[Feature], tuple[str, ...]]] = {
    "stations.geojson": (Station, ("Polygon", "MultiPolygon")),
    "areas.geojson": (Area, ("Polygon", "MultiPolygon")),
    "posts.geojson": (Post, ("Point", "LineString")),
    "sensors.geojson": (Sensor, ("Point", "LineString", "Polygon")),
    "network.geojson": (NetworkLine, ("LineString",)),
}
