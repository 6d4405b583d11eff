"""The crowd twin's data: a scenario's ``twin/visitors.toml``, validated.

The file has two tables, ``[visitors]`` (entrances, attractions, the arrival profile and the
itinerary parameters) and ``[sensors]`` (how each kind of sensor miscounts and fails). Every
key is checked: unknown keys, out-of-range values and wrong lengths are errors that name the
file and the field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lakeguard.venue.schema import LonLat, Slug

TWIN_FILE = Path("twin") / "visitors.toml"
HOURS = 24

Hourly = Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=HOURS, max_length=HOURS)]
Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class TwinConfigError(ValueError):
    """A twin data file that cannot be used; the message names the file and the field."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def clock_s(value: str) -> float:
    """Seconds since midnight of an ``HH:MM`` clock time."""
    hours, minutes = value.split(":")
    return float(int(hours) * 3600 + int(minutes) * 60)


class Entrance(Strict):
    """Where visitors arrive and leave: a metro exit, a bus stop, a car park, a pier."""

    id: Slug = Field(description="unique among entrances")
    kind: Literal["metro", "bus", "car_park", "shore", "gate"] = Field(
        description="how visitors come"
    )
    at: LonLat = Field(description="[lon, lat], snapped to the nearest walk node")
    share: float = Field(gt=0, le=1, description="share of the day's arrivals (normalised)")


class Dwell(Strict):
    """How long visitors stay at an attraction: lognormal."""

    median_min: float = Field(gt=0, le=600, description="median stay, minutes")
    sigma: float = Field(ge=0, le=2, description="log-space standard deviation")


class Attraction(Strict):
    """A place visitors go to and stay at for a while; they count in its area meanwhile."""

    id: Slug = Field(description="unique among attractions")
    area: Slug = Field(description="the scenario area the attraction lies in")
    at: LonLat | None = Field(
        None, description="[lon, lat]; default: the area's walk node nearest its centre"
    )
    weight: float = Field(gt=0, le=1000, description="relative popularity")
    profile: str = Field("day", description="name of the hourly popularity profile")
    dwell: Dwell


class Itinerary(Strict):
    """How visitors string attractions together and how long they stay in the venue."""

    leave_weight: float = Field(
        ge=0, le=1000, description="pull of going home against attractions' weights, after a stop"
    )
    max_stops: int = Field(ge=1, le=30, description="most stops in one visit")
    distance_decay_m: float = Field(gt=0, le=50_000, description="gravity: exp(-d / this)")
    max_leg_m: float = Field(gt=0, le=50_000, description="no walk to a stop further than this")
    exit_decay_m: float = Field(gt=0, le=50_000, description="exit choice: exp(-d / this)")
    return_share: float = Field(ge=0, le=1, description="leave by the entrance one came in")
    stay_median_min: float = Field(gt=0, le=1440, description="median time budget, minutes")
    stay_sigma: float = Field(ge=0, le=2, description="log-space sd of the time budget")
    last_leave: Clock = Field(description="everyone heads for an exit by this local time")
    leave_spread_min: float = Field(
        ge=0, le=600, description="each visitor's own latest leave is up to this much earlier"
    )
    free_speed_mean: float = Field(gt=0, le=3, description="visitors' free walking speed, m/s")
    free_speed_sd: float = Field(ge=0, le=1, description="spread of free speeds, m/s")
    min_free_speed: float = Field(gt=0, le=3, description="slowest free walker, m/s")
    hold_density: float = Field(
        gt=0, le=10, description="walkers wait rather than enter an area this dense, p/m²"
    )
    boat_speed: float = Field(gt=0, le=20, description="tourist boat speed, m/s")
    boat_cost_factor: float = Field(
        ge=1, le=100, description="route choice: a boat metre costs this many walking metres"
    )


class VisitorConfig(Strict):
    """The ``[visitors]`` table."""

    arrivals: Hourly = Field(description="share of the day's arrivals in each local hour")
    profiles: dict[str, Hourly] = Field(description="hourly popularity multipliers by name")
    itinerary: Itinerary
    entrances: list[Entrance] = Field(min_length=1)
    attractions: list[Attraction] = Field(min_length=1, max_length=63)

    @model_validator(mode="after")
    def _consistent(self) -> VisitorConfig:
        if sum(self.arrivals) <= 0:
            raise ValueError("arrivals: the hourly shares sum to zero")
        for kind, items in (("entrance", self.entrances), ("attraction", self.attractions)):
            ids = [item.id for item in items]
            twice = sorted({i for i in ids if ids.count(i) > 1})
            if twice:
                raise ValueError(f"{kind} ids used twice: {', '.join(twice)}")
        for attraction in self.attractions:
            if attraction.profile not in self.profiles:
                raise ValueError(
                    f"attraction {attraction.id!r}: unknown profile {attraction.profile!r} "
                    f"(known: {', '.join(sorted(self.profiles))})"
                )
        return self


class GateNoise(Strict):
    """Counting lines (gates and checkpoints): each misses a fixed share, plus noise."""

    undercount_min: float = Field(ge=0, le=0.5, description="smallest systematic miss rate")
    undercount_max: float = Field(ge=0, le=0.5, description="largest systematic miss rate")
    double_count: float = Field(ge=0, le=0.2, description="extra counts per true crossing")


class ViewNoise(Strict):
    """Cameras and drones: people in view are missed more the denser the crowd."""

    miss_base: float = Field(ge=0, le=0.5, description="share missed in an empty scene")
    miss_per_density: float = Field(
        ge=0, le=1, description="extra share missed per person/m² (occlusion)"
    )
    miss_max: float = Field(ge=0, le=0.9, description="largest share missed")
    noise: float = Field(ge=0, le=0.5, description="relative noise of a count")


class DroneFlights(Strict):
    """Drone stations fly survey sorties in daylight and count the area from the air."""

    first: Clock = Field(description="first sortie, local time")
    last: Clock = Field(description="no sortie after this, local time")
    interval_s: float = Field(ge=60, le=7200, description="time between counts")
    view_radius_m: float = Field(gt=0, le=2000, description="radius seen from the air")


class Failures(Strict):
    """Missing reports and offline spells."""

    dropout: float = Field(ge=0, le=0.5, description="chance a single report is lost")
    offline_per_day: float = Field(ge=0, le=24, description="offline spells per sensor-day")
    offline_min_s: float = Field(ge=60, le=86_400, description="shortest offline spell")
    offline_max_s: float = Field(ge=60, le=86_400, description="longest offline spell")


class SensorLoss(Strict):
    """A harsher day for stress tests: more reports lost, every counting line down once.

    Off unless asked for (``[sensors.loss]`` or ``bench.estimate --sensor-loss``).
    """

    share: float = Field(ge=0, le=0.5, description="chance a report is lost, beyond dropout")
    line_outage_s: float = Field(
        3600.0, ge=0, le=86_400, description="each counting line is offline once for this long"
    )
    outage_from: Clock = Field("06:00", description="outages start at this local time or later")
    outage_to: Clock = Field("21:00", description="and before this one")


class Clustering(Strict):
    """Crowds gather on paths and at views rather than spreading over an area evenly.

    The share of an area's people inside a view is then not the share of the area the view
    covers: it is shifted, in log-odds, by a bias fixed for the day per view and by a slow
    wander. Off unless asked for (``[sensors.clustering]`` or ``bench.estimate --clustered``).
    """

    bias_sd: float = Field(
        0.4, ge=0, le=3, description="spread of each view's fixed bias, log-odds of the share"
    )
    drift_sd: float = Field(0.25, ge=0, le=3, description="spread of the slow wander, log-odds")
    drift_tau_s: float = Field(
        1800.0, gt=0, le=86_400, description="time constant of the wander, seconds"
    )


class SensorConfig(Strict):
    """The ``[sensors]`` table."""

    gate: GateNoise
    checkpoint: GateNoise
    camera: ViewNoise
    drone: ViewNoise
    drone_flights: DroneFlights
    failures: Failures
    loss: SensorLoss | None = None
    clustering: Clustering | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SensorConfig:
        for name in ("gate", "checkpoint"):
            noise: GateNoise = getattr(self, name)
            if noise.undercount_min > noise.undercount_max:
                raise ValueError(f"{name}: undercount_min is above undercount_max")
        if self.failures.offline_min_s > self.failures.offline_max_s:
            raise ValueError("failures: offline_min_s is above offline_max_s")
        if self.loss is not None and clock_s(self.loss.outage_from) >= clock_s(self.loss.outage_to):
            raise ValueError("loss: outage_from is not before outage_to")
        return self


class CrowdTwinFile(Strict):
    visitors: VisitorConfig
    sensors: SensorConfig


def twin_file(scenario_source: str) -> Path:
    """The twin data file of a scenario folder."""
    if not scenario_source:
        raise TwinConfigError("the scenario was not loaded from a folder: no twin data file")
    return Path(scenario_source) / TWIN_FILE


def load_crowd_twin(path: Path) -> CrowdTwinFile:
    """Read and validate a twin data file; raise :class:`TwinConfigError` naming each field."""
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TwinConfigError(f"{path}: file is missing") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TwinConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return CrowdTwinFile.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: {_field_path(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise TwinConfigError("\n".join(lines)) from exc


def _field_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"
