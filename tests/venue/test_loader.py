"""Scenario validation: a broken copy of the tiny park fails with file, feature, field, reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lakeguard.venue.loader import Scenario, load_scenario
from lakeguard.venue.problems import Problem, ScenarioError
from tests.factories import feature, lonlat, write_scenario

Breaker = Callable[[dict[str, Any]], None]


def problems_of(folder: Path) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(folder)
    return caught.value.problems


def broken(tmp_path: Path, files: dict[str, Any], change: Breaker) -> list[Problem]:
    change(files)
    return problems_of(write_scenario(tmp_path / "broken", files))


def test_the_tiny_park_loads(tiny_folder: Path) -> None:
    scenario = load_scenario(tiny_folder)
    assert scenario.id == "tinypark"
    assert [a.id for a in scenario.areas] == ["avenue", "lake", "isle"]
    assert scenario.config.speeds.walk == 1.34


def _unknown_station(files: dict[str, Any]) -> None:
    feature(files, "areas.geojson", "avenue")["properties"]["station"] = "wset"


def _unclosed_ring(files: dict[str, Any]) -> None:
    ring = feature(files, "areas.geojson", "lake")["geometry"]["coordinates"][0]
    ring[-1] = lonlat((300, 300))


def _hotspot_without_capacity(files: dict[str, Any]) -> None:
    props = feature(files, "areas.geojson", "avenue")["properties"]
    del props["capacity"]


def _duplicate_id(files: dict[str, Any]) -> None:
    feature(files, "sensors.geojson", "cam-e")["properties"]["id"] = "gate-ab"


def _wrong_capacity(files: dict[str, Any]) -> None:
    feature(files, "areas.geojson", "avenue")["properties"]["capacity"] = 9999


def _too_much_usable_area(files: dict[str, Any]) -> None:
    props = feature(files, "areas.geojson", "avenue")["properties"]
    props["usable_m2"], props["capacity"] = 50000.0, 10000


def _unknown_domain(files: dict[str, Any]) -> None:
    feature(files, "posts.geojson", "pt-a")["properties"]["domain"] = "space"


def _post_far_from_paths(files: dict[str, Any]) -> None:
    feature(files, "posts.geojson", "pt-a")["geometry"]["coordinates"] = lonlat((-71, 100))


def _disconnected_walk(files: dict[str, Any]) -> None:
    files["network.geojson"]["features"].append(
        {"type": "Feature", "properties": {"id": "stray", "modes": ["walk"]},
         "geometry": {"type": "LineString", "coordinates": [lonlat((-200, -200)), lonlat((-150, -200))]}}
    )  # fmt: skip


def _segment_as_point(files: dict[str, Any]) -> None:
    feature(files, "posts.geojson", "seg-north")["geometry"] = {
        "type": "Point", "coordinates": lonlat((100, 200))
    }  # fmt: skip


def _camera_without_mount(files: dict[str, Any]) -> None:
    del feature(files, "sensors.geojson", "cam-e")["properties"]["mount"]


def _sensor_unknown_area(files: dict[str, Any]) -> None:
    feature(files, "sensors.geojson", "gate-ab")["properties"]["area"] = "avenu"


def _line_without_far_side(files: dict[str, Any]) -> None:
    del feature(files, "sensors.geojson", "gate-ab")["properties"]["beyond"]


def _line_to_unknown_area(files: dict[str, Any]) -> None:
    feature(files, "sensors.geojson", "check-b")["properties"]["beyond"] = "laek"


def _camera_with_far_side(files: dict[str, Any]) -> None:
    feature(files, "sensors.geojson", "cam-e")["properties"]["beyond"] = "lake"


def _area_named_outside(files: dict[str, Any]) -> None:
    feature(files, "areas.geojson", "lake")["properties"]["id"] = "outside"


def _bad_empty_hours(files: dict[str, Any]) -> None:
    feature(files, "areas.geojson", "avenue")["properties"]["empty_hours"] = ["25:00-06:00"]


def _unknown_field(files: dict[str, Any]) -> None:
    feature(files, "areas.geojson", "lake")["properties"]["colour"] = "blue"


def _latitude_out_of_range(files: dict[str, Any]) -> None:
    feature(files, "network.geojson", "cd")["geometry"]["coordinates"][0] = [120.0, 95.0]


def _self_intersecting_polygon(files: dict[str, Any]) -> None:
    feature(files, "areas.geojson", "lake")["geometry"]["coordinates"] = [[
        lonlat((210, 150)), lonlat((390, 300)), lonlat((390, 150)), lonlat((210, 300)),
        lonlat((210, 150)),
    ]]  # fmt: skip


def _overlapping_areas(files: dict[str, Any]) -> None:
    feature(files, "areas.geojson", "isle")["geometry"]["coordinates"] = [[
        lonlat((350, 190)), lonlat((470, 190)), lonlat((470, 270)), lonlat((350, 270)),
        lonlat((350, 190)),
    ]]  # fmt: skip


def _post_outside_its_station(files: dict[str, Any]) -> None:
    feature(files, "posts.geojson", "seg-lake")["properties"]["station"] = "west"


def _drone_mode(files: dict[str, Any]) -> None:
    feature(files, "network.geojson", "ab")["properties"]["modes"] = ["walk", "drone"]


@pytest.mark.parametrize(
    ("change", "file", "feature_id", "field", "reason"),
    [
        (_unknown_station, "areas.geojson", "avenue", "station", "unknown station 'wset' (did you mean west"),
        (_unclosed_ring, "areas.geojson", "lake", "geometry", "exterior ring is not closed"),
        (_hotspot_without_capacity, "areas.geojson", "avenue", "capacity", "missing (required for a hotspot)"),
        (_duplicate_id, "sensors.geojson", "gate-ab", "id", "duplicate id"),
        (_wrong_capacity, "areas.geojson", "avenue", "capacity", "does not match usable_m2 / space_per_visitor_m2"),
        (_too_much_usable_area, "areas.geojson", "avenue", "usable_m2", "more than the polygon's own"),
        (_unknown_domain, "posts.geojson", "pt-a", "domain", "Input should be 'air', 'mountain', 'land' or 'water'"),
        (_post_far_from_paths, "posts.geojson", "pt-a", "geometry", "unreachable: 71 m from the walk network"),
        (_disconnected_walk, "network.geojson", "stray", "modes", "walk network not connected"),
        (_segment_as_point, "posts.geojson", "seg-north", "kind", "a segment post needs a LineString"),
        (_camera_without_mount, "sensors.geojson", "cam-e", "mount", "missing (required for a camera)"),
        (_sensor_unknown_area, "sensors.geojson", "gate-ab", "area", "unknown area 'avenu' (did you mean avenue"),
        (_line_without_far_side, "sensors.geojson", "gate-ab", "beyond", "missing (required for a gate: an area id or 'outside')"),
        (_line_to_unknown_area, "sensors.geojson", "check-b", "beyond", "unknown area 'laek' (did you mean lake"),
        (_camera_with_far_side, "sensors.geojson", "cam-e", "beyond", "only gates and checkpoints have a far side, not a camera"),
        (_area_named_outside, "areas.geojson", "outside", "id", "'outside' is reserved"),
        (_bad_empty_hours, "areas.geojson", "avenue", "empty_hours", "'25:00-06:00' is not a local time span HH:MM-HH:MM"),
        (_unknown_field, "areas.geojson", "lake", "colour", "unknown field"),
        (_latitude_out_of_range, "network.geojson", "cd", "geometry", "outside WGS84"),
        (_self_intersecting_polygon, "areas.geojson", "lake", "geometry", "invalid polygon: Self-intersection"),
        (_drone_mode, "network.geojson", "ab", "modes", "'drone' is not a network mode"),
        (_overlapping_areas, "areas.geojson", "isle", "geometry", "overlaps area 'lake' by 3,200 m²"),
        (_post_outside_its_station, "posts.geojson", "seg-lake", "station", "outside the jurisdiction of station 'west' (it lies in 'east')"),
    ],
)  # fmt: skip
def test_a_broken_scenario_names_file_feature_field_and_reason(
    tmp_path: Path, tiny_files: dict[str, Any], change: Breaker,
    file: str, feature_id: str, field: str, reason: str,
) -> None:  # fmt: skip
    problems = broken(tmp_path, tiny_files, change)
    matching = [
        p for p in problems if p.file == file and p.feature_id == feature_id and p.field == field
    ]
    assert matching, (
        f"no problem for {file} {feature_id} {field}; got: {[str(p) for p in problems]}"
    )
    assert any(reason in p.message for p in matching), [str(p) for p in matching]
    # The last feature with the id: for a duplicate, that is the one reported.
    index = max(
        i for i, f in enumerate(tiny_files[file]["features"]) if f["properties"]["id"] == feature_id
    )
    assert any(p.index == index for p in matching)
    assert str(matching[0]).startswith(f"{file}: feature {index} ({feature_id}): {field}: ")


def test_every_problem_is_reported_at_once(tmp_path: Path, tiny_files: dict[str, Any]) -> None:
    def several(files: dict[str, Any]) -> None:
        _unknown_station(files)
        _camera_without_mount(files)
        _wrong_capacity(files)

    problems = broken(tmp_path, tiny_files, several)
    assert {p.field for p in problems} >= {"station", "mount", "capacity"}


def test_missing_and_unreadable_files(tmp_path: Path, tiny_files: dict[str, Any]) -> None:
    folder = write_scenario(tmp_path / "p", tiny_files)
    (folder / "sensors.geojson").unlink()
    (folder / "posts.geojson").write_text("{not json", encoding="utf-8")
    (folder / "venue.toml").write_text("id = ", encoding="utf-8")
    messages = {p.file: p.message for p in problems_of(folder)}
    assert messages["sensors.geojson"] == "file is missing"
    assert messages["posts.geojson"].startswith("not valid JSON")
    assert messages["venue.toml"].startswith("not valid TOML")


def test_bad_venue_settings(tmp_path: Path, tiny_files: dict[str, Any]) -> None:
    tiny_files["venue.toml"] = (
        tiny_files["venue.toml"]
        .replace("Asia/Shanghai", "Asia/Hangzhou")
        .replace("walk = 1.34", "walk = -1")
    )
    problems = broken(tmp_path, tiny_files, lambda files: None)
    fields = {p.field: p.message for p in problems if p.file == "venue.toml"}
    assert "unknown IANA time zone 'Asia/Hangzhou'" in fields["timezone"]
    assert "greater than 0" in fields["speeds.walk"]


def test_not_a_folder(tmp_path: Path) -> None:
    problems = problems_of(tmp_path / "nowhere")
    assert problems[0].message == "not a folder"


def test_an_island_needs_a_pier(tmp_path: Path, tiny_files: dict[str, Any]) -> None:
    def no_boat(files: dict[str, Any]) -> None:
        lanes = files["network.geojson"]["features"]
        files["network.geojson"]["features"] = [
            f for f in lanes if f["properties"]["id"] != "boat-cf"
        ]
        files["posts.geojson"]["features"] = [
            f for f in files["posts.geojson"]["features"] if f["properties"]["domain"] != "water"
        ]

    problems = broken(tmp_path, tiny_files, no_boat)
    assert [(p.feature_id, p.field) for p in problems] == [("isle-loop", "modes")]
    assert "has no pier on the boat network" in problems[0].message


@pytest.mark.parametrize(
    ("spans", "minute", "empty"),
    [
        (("22:00-06:30",), 23 * 60, True),
        (("22:00-06:30",), 6 * 60 + 29, True),
        (("22:00-06:30",), 6 * 60 + 30, False),
        (("22:00-06:30",), 12 * 60, False),
        (("01:00-05:00", "13:00-14:00"), 13 * 60 + 15, True),
        ((), 3 * 60, False),
    ],
)
def test_empty_hours_may_run_past_midnight(
    westlake: Scenario, spans: tuple[str, ...], minute: int, empty: bool
) -> None:
    area = next(a for a in westlake.areas if a.id == "leifeng-pagoda")
    assert area.model_copy(update={"empty_hours": spans}).empty_at(minute) is empty
