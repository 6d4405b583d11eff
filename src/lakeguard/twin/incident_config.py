"""The twin's incident and unit settings: the schema of a scenario's ``twin/incidents.toml``."""

from __future__ import annotations

import string
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CONFIG_FILE = Path("twin") / "incidents.toml"

ExposureClass = Literal["all", "crowded", "lakeside", "mountain"]
Source = Literal["phone", "walk_in", "patrol", "app", "resident_group"]
NetworkMode = Literal["walk", "vehicle", "boat"]
# Slots a description template may use besides the word lists: numbers and the place.
NUMBER_SLOTS = ("age", "minutes", "amount")
PLACE_SLOT = "place"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Template(Strict):
    """One way a caller describes an incident, in Chinese and in English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def slots(self) -> set[str]:
        """The ``{name}`` slots both texts use."""
        found = set()
        for text in (self.zh, self.en):
            found |= {name for _, name, _, _ in string.Formatter().parse(text) if name}
        return found


class Handling(Strict):
    """On-scene handling time: lognormal around a median, clipped to a range."""

    median_s: float = Field(gt=0, le=86_400, description="median seconds on scene")
    sigma: float = Field(0.5, ge=0, le=3, description="spread of the logarithm")
    min_s: float = Field(60, ge=0, description="shortest handling time, s")
    max_s: float = Field(14_400, gt=0, description="longest handling time, s")

    @model_validator(mode="after")
    def _ordered(self) -> Handling:
        if not self.min_s <= self.median_s <= self.max_s:
            raise ValueError("need min_s <= median_s <= max_s")
        return self


class IncidentType(Strict):
    """How one incident type arises, where it lies, how it is reported and handled."""

    rates: dict[ExposureClass, float] = Field(
        min_length=1, description="incidents per visitor-hour of each exposure class"
    )
    dry_only: bool = Field(False, description="arises on dry days only (hill fires)")
    network: NetworkMode = Field("walk", description="the network the scene lies on")
    place_share: float = Field(0.6, ge=0, le=1, description="share of callers giving a name")
    sources: dict[Source, float] = Field(min_length=1, description="weights of report sources")
    ages: tuple[int, int] = Field((20, 70), description="age range of the person concerned")
    handling: Handling
    templates: tuple[Template, ...] = Field(min_length=1)

    @field_validator("rates", "sources")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        if any(v < 0 for v in value.values()):
            raise ValueError("rates and weights cannot be negative")
        return value


class Crowding(Strict):
    """When an area counts as crowded in a step (either condition)."""

    density_p_m2: float = Field(1.0, gt=0, le=10, description="persons per usable m²")
    capacity_ratio: float = Field(0.8, gt=0, le=5, description="occupancy over capacity")


class Exposures(Strict):
    crowding: Crowding = Crowding()
    lakeside_m: float = Field(
        30.0, ge=0, le=500, description="areas this close to a water area are lakeside, m"
    )


class DayExposure(Strict):
    """Visitor-hours of one day by exposure class, as the visitor model measured them."""

    visitors: int = Field(ge=0)
    all_h: float = Field(ge=0)
    crowded_h: float = Field(ge=0)
    lakeside_h: float = Field(ge=0)
    mountain_h: float = Field(ge=0)


class Calibration(Strict):
    """The half year the rates were fitted to (see docs/twin.md)."""

    half_year_days: int = Field(181, ge=1, le=366)
    peak_days: int = Field(15, ge=0, le=366, description="holiday peak days in the half year")
    dry_share: float = Field(0.4, ge=0, le=1, description="share of days that are dry")
    crime_free_days: int = Field(130, ge=0, description="source: days without a crime")
    ordinary: DayExposure = Field(description="an ordinary day's exposure")
    peak: DayExposure = Field(description="a peak day's exposure")

    @model_validator(mode="after")
    def _days(self) -> Calibration:
        if self.peak_days > self.half_year_days:
            raise ValueError("peak_days cannot exceed half_year_days")
        return self


class PatrolSpeeds(Strict):
    """The unhurried pace of a beat and of the way back from a call, m/s."""

    walk: float = Field(0.9, gt=0, le=10)
    vehicle: float = Field(4.0, gt=0, le=60)
    boat: float = Field(2.5, gt=0, le=40)


class UnitSettings(Strict):
    """How units patrol and respond."""

    patrol_speed_ms: PatrolSpeeds = PatrolSpeeds()
    turnout_s: dict[str, float] = Field(
        default_factory=dict, description="median turnout by unit kind, s (drones: venue)"
    )
    default_turnout_s: float = Field(30.0, ge=0, le=900)
    turnout_spread: float = Field(0.3, ge=0, lt=1, description="± share drawn uniformly")
    jitter_m: float = Field(3.0, ge=0, le=50, description="spread of a standing unit's fixes")
    roam_radius_m: float = Field(300.0, gt=0, le=5000)
    kerb_walk_m: float = Field(
        25.0, ge=0, le=1000, description="a scene further off the road is walked on paths, m"
    )


class Words(Strict):
    """Word lists for descriptions and callers: each entry is (Chinese, English)."""

    lists: dict[str, tuple[tuple[str, str], ...]] = Field(default_factory=dict)
    surnames: tuple[tuple[str, str], ...] = Field(min_length=1)


class IncidentConfig(Strict):
    """The contents of ``twin/incidents.toml``."""

    exposure: Exposures = Exposures()
    calibration: Calibration
    units: UnitSettings = UnitSettings()
    words: Words
    types: dict[str, IncidentType] = Field(min_length=1)

    @model_validator(mode="after")
    def _slots_known(self) -> IncidentConfig:
        known = set(self.words.lists) | set(NUMBER_SLOTS) | {PLACE_SLOT}
        for code, kind in self.types.items():
            for template in kind.templates:
                unknown = template.slots() - known
                if unknown:
                    raise ValueError(f"types.{code}: unknown slots {sorted(unknown)}")
        return self

    @classmethod
    def load(cls, path: Path) -> IncidentConfig:
        """Read and validate a ``twin/incidents.toml`` file."""
        return cls.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def for_scenario(cls, scenario_source: str) -> IncidentConfig:
        """The config shipped with a scenario folder."""
        return cls.load(Path(scenario_source) / CONFIG_FILE)
