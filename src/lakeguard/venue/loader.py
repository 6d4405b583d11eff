"""Reading and validating a scenario folder. A scenario with any problem is refused whole."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from lakeguard.venue.checks import cross_check, network_check
from lakeguard.venue.geometry import geojson_geometry_problems
from lakeguard.venue.plans import PlanBook
from lakeguard.venue.problems import Problem, ScenarioError
from lakeguard.venue.schema import (
    LAYERS,
    Area,
    Feature,
    NetworkLine,
    Post,
    Sensor,
    Station,
    VenueConfig,
)

VENUE_FILE = "venue.toml"
PLANS_FILE = "plans.toml"
F = TypeVar("F", bound=Feature)


@dataclass(frozen=True)
class RawScenario:
    """A scenario's files, parsed as TOML and JSON but not yet validated."""

    venue: Mapping[str, Any]
    layers: Mapping[str, Any]
    source: str = ""
    plans: Mapping[str, Any] | None = None  # plans.toml, when the scenario has one


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: every reference resolves and the network is connected."""

    config: VenueConfig
    stations: tuple[Station, ...]
    areas: tuple[Area, ...]
    posts: tuple[Post, ...]
    sensors: tuple[Sensor, ...]
    network: tuple[NetworkLine, ...]
    source: str = ""
    plans: PlanBook | None = None
    _index: dict[str, Feature] = field(default_factory=dict, compare=False, repr=False)

    @property
    def id(self) -> str:
        return self.config.id

    def layer(self, name: str) -> tuple[Feature, ...]:
        """The features of a layer by its file name (``areas.geojson``...)."""
        attr = name.removesuffix(".geojson")
        return tuple(getattr(self, attr))

    def feature_collection(self, name: str) -> dict[str, Any]:
        """One layer as a GeoJSON FeatureCollection, as it would be written to its file."""
        return {
            "type": "FeatureCollection",
            "features": [feature_to_geojson(f) for f in self.layer(name)],
        }


def feature_to_geojson(feature: Feature) -> dict[str, Any]:
    """A scenario feature back as a GeoJSON Feature."""
    props = feature.model_dump(mode="json", exclude={"geometry"}, exclude_defaults=True)
    props["id"] = feature.id
    return {"type": "Feature", "properties": props, "geometry": feature.geometry}


def read_scenario_files(path: Path) -> RawScenario:
    """Read venue.toml and the GeoJSON layers of a folder; raise on unreadable files."""
    problems: list[Problem] = []
    if not path.is_dir():
        raise ScenarioError([Problem(str(path), message="not a folder")])
    venue: dict[str, Any] = {}
    try:
        venue = tomllib.loads((path / VENUE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(VENUE_FILE, message="file is missing"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem(VENUE_FILE, message=f"not valid TOML: {exc}"))
    layers: dict[str, Any] = {}
    for name in LAYERS:
        try:
            layers[name] = json.loads((path / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(Problem(name, message="file is missing"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, message=f"not valid JSON: {exc}"))
    plans: dict[str, Any] | None = None
    if (path / PLANS_FILE).exists():
        try:
            plans = tomllib.loads((path / PLANS_FILE).read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(Problem(PLANS_FILE, message=f"not valid TOML: {exc}"))
    if problems:
        raise ScenarioError(problems)
    return RawScenario(venue, layers, source=str(path), plans=plans)


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario folder; raise :class:`ScenarioError` listing every problem."""
    return parse_scenario(read_scenario_files(path))


def parse_scenario(raw: RawScenario) -> Scenario:
    """Validate parsed scenario files; raise :class:`ScenarioError` listing every problem."""
    problems: list[Problem] = []
    config = _parse_venue(raw.venue, problems)
    parsed: dict[str, list[tuple[int, Feature]]] = {}
    broken_layers: set[str] = set()
    for name, (model, geometry_types) in LAYERS.items():
        before = len(problems)
        parsed[name] = _parse_layer(name, raw.layers.get(name), model, geometry_types, problems)
        if len(problems) > before:
            broken_layers.add(name)
    problems += cross_check(parsed, config)
    if config is not None and "network.geojson" not in broken_layers:
        problems += network_check(parsed, config)
    plans = _parse_plans(raw.plans, problems) if raw.plans is not None else None
    if plans is not None:
        problems += _emergency_problems(plans, parsed)
    if problems or config is None:
        raise ScenarioError(problems)
    return Scenario(
        config=config,
        stations=_features(parsed, "stations.geojson", Station),
        areas=_features(parsed, "areas.geojson", Area),
        posts=_features(parsed, "posts.geojson", Post),
        sensors=_features(parsed, "sensors.geojson", Sensor),
        network=_features(parsed, "network.geojson", NetworkLine),
        source=raw.source,
        plans=plans,
    )


def _features(
    parsed: Mapping[str, list[tuple[int, Feature]]], name: str, model: type[F]
) -> tuple[F, ...]:
    return tuple(f for _, f in parsed[name] if isinstance(f, model))


def _parse_plans(raw: Mapping[str, Any], problems: list[Problem]) -> PlanBook | None:
    try:
        book = PlanBook.model_validate(raw)
    except ValidationError as exc:
        listed = raw.get("plans")
        entries: list[Any] = listed if isinstance(listed, list) else []
        for error in exc.errors():
            loc = [str(p) for p in error["loc"]]
            index = int(loc[1]) if len(loc) > 1 and loc[0] == "plans" and loc[1].isdigit() else None
            code = None
            if index is not None and index < len(entries) and isinstance(entries[index], dict):
                code = entries[index].get("code")
            field = ".".join(loc[2:]) if index is not None else ".".join(loc)
            problems.append(Problem(PLANS_FILE, index, code, field or None, _message(error)))
        return None
    codes = [plan.code for plan in book.plans]
    for index, code in enumerate(codes):
        if code in codes[:index]:
            problems.append(Problem(PLANS_FILE, index, code, "code", "duplicate incident type"))
    return book


def _emergency_problems(
    book: PlanBook, parsed: Mapping[str, list[tuple[int, Feature]]]
) -> list[Problem]:
    """Every area, post, station and incident type an emergency plan names must exist."""
    ids = {name: {f.id for _, f in features} for name, features in parsed.items()}
    codes = {plan.code for plan in book.plans}
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, plan in enumerate(book.emergency):
        where = ("emergency", index, plan.area)

        def add(field: str, message: str, where: tuple[str, int, str] = where) -> None:
            problems.append(Problem(PLANS_FILE, where[1], where[2], field, message))

        if plan.area not in ids["areas.geojson"]:
            add("area", f"no area {plan.area!r} in areas.geojson")
        if plan.area in seen:
            add("area", "a second emergency plan for the same area")
        seen.add(plan.area)
        if plan.incident_type not in codes:
            add("incident_type", f"no incident type {plan.incident_type!r} in plans")
        for n, step in enumerate(plan.steps):
            if step.post is not None and step.post not in ids["posts.geojson"]:
                add(f"steps.{n}.post", f"no post {step.post!r} in posts.geojson")
            station = step.owner.removeprefix("station:")
            if station != step.owner and station not in ids["stations.geojson"]:
                add(f"steps.{n}.owner", f"no station {station!r} in stations.geojson")
    return problems


def _parse_venue(venue: Mapping[str, Any], problems: list[Problem]) -> VenueConfig | None:
    try:
        return VenueConfig.model_validate(venue)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or None
            problems.append(Problem(VENUE_FILE, field=where, message=_message(error)))
        return None


def _parse_layer(
    name: str,
    collection: Any,
    model: type[Feature],
    geometry_types: tuple[str, ...],
    problems: list[Problem],
) -> list[tuple[int, Feature]]:
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        problems.append(Problem(name, message="not a GeoJSON FeatureCollection"))
        return []
    features = collection.get("features")
    if not isinstance(features, list):
        problems.append(Problem(name, field="features", message="missing or not a list"))
        return []
    parsed = []
    for index, raw in enumerate(features):
        feature = _parse_feature(name, index, raw, model, geometry_types, problems)
        if feature is not None:
            parsed.append((index, feature))
    return parsed


def _parse_feature(
    name: str,
    index: int,
    raw: Any,
    model: type[Feature],
    geometry_types: tuple[str, ...],
    problems: list[Problem],
) -> Feature | None:
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        problems.append(Problem(name, index, message="not a GeoJSON Feature"))
        return None
    props = raw.get("properties")
    if not isinstance(props, dict):
        problems.append(
            Problem(name, index, field="properties", message="missing or not an object")
        )
        return None
    fid = props.get("id") if isinstance(props.get("id"), str) else None
    start = len(problems)
    for message in geojson_geometry_problems(raw.get("geometry"), geometry_types):
        problems.append(Problem(name, index, fid, "geometry", message))
    try:
        feature = model.model_validate({**props, "geometry": raw.get("geometry") or {}})
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            problems.append(Problem(name, index, fid, where, _message(error)))
        return None
    return feature if len(problems) == start else None


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "missing":
        return "missing (required)"
    if error.get("type") == "extra_forbidden":
        return "unknown field"
    text = str(error.get("msg", "invalid"))
    return text.removeprefix("Value error, ")
