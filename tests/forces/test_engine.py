"""The pure core: status transitions, shifts, report times and where a unit is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakeguard.forces.engine import (
    TRANSITIONS,
    DispatchLocation,
    FuturePosition,
    InvalidTransition,
    LocationSource,
    Shift,
    UnitKind,
    UnitStatus,
    can_change,
    check_report_time,
    check_transition,
    dispatch_location,
    position_age_s,
    post_location,
    post_locations,
    supersedes,
    unit_problems,
)
from lakeguard.venue.geometry import LocalProjection
from lakeguard.venue.loader import Scenario
from lakeguard.venue.schema import Mode
from tests.factories import ORIGIN, lonlat

S = UnitStatus
NOW = datetime(2024, 5, 1, 2, 40, tzinfo=UTC)

# Written out by hand from the issue, independently of the table in the engine.
ALLOWED = {
    (S.AVAILABLE, S.ASSIGNED), (S.AVAILABLE, S.UNAVAILABLE), (S.AVAILABLE, S.OFF_DUTY),
    (S.ASSIGNED, S.EN_ROUTE), (S.ASSIGNED, S.ON_SCENE), (S.ASSIGNED, S.AVAILABLE),
    (S.EN_ROUTE, S.ON_SCENE), (S.EN_ROUTE, S.AVAILABLE),
    (S.ON_SCENE, S.AVAILABLE),
    (S.UNAVAILABLE, S.AVAILABLE),
    (S.OFF_DUTY, S.AVAILABLE),
}  # fmt: skip


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("requested", list(S))
def test_every_pair_of_states(current: UnitStatus, requested: UnitStatus) -> None:
    allowed = current == requested or (current, requested) in ALLOWED
    assert can_change(current, requested) is allowed
    if allowed:
        check_transition(current, requested)
    else:
        with pytest.raises(InvalidTransition, match=f"{current.value} cannot become"):
            check_transition(current, requested)


def test_the_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(S)


@given(st.lists(st.sampled_from(list(S)), max_size=60))
def test_any_sequence_of_requests_keeps_the_rules(requests: list[UnitStatus]) -> None:
    """Apply whatever is allowed of a random sequence and check the path it takes."""
    state = S.AVAILABLE
    for requested in requests:
        if not can_change(state, requested):
            with pytest.raises(InvalidTransition):
                check_transition(state, requested)
            continue
        if requested in (S.UNAVAILABLE, S.OFF_DUTY) and requested != state:
            assert state == S.AVAILABLE  # stood down or off duty only when free
        if requested == S.ON_SCENE and state != S.ON_SCENE:
            assert state in (S.ASSIGNED, S.EN_ROUTE)  # only a unit that was sent arrives
        if requested == S.EN_ROUTE and state != S.EN_ROUTE:
            assert state == S.ASSIGNED
        state = requested
        # From anywhere a unit can be made available again in one step.
        assert can_change(state, S.AVAILABLE)


def test_shift_hours() -> None:
    day, night, always = Shift.parse("08:00-20:00"), Shift.parse("20:00-08:00"), Shift.parse("24h")
    assert day.covers(time(8, 0)) and day.covers(time(19, 59)) and not day.covers(time(20, 0))
    assert night.covers(time(23, 0)) and night.covers(time(7, 59)) and not night.covers(time(12))
    assert always.covers(time(3, 0))
    assert Shift.parse("18:00-24:00").covers(time(23, 59, 59))


def test_kind_and_mode_must_agree() -> None:
    assert unit_problems(UnitKind.BOAT, Mode.BOAT, ["water_rescue"]) == []
    assert unit_problems(UnitKind.BOAT, Mode.WALK, []) == ["mode: a boat travels by boat, not walk"]
    assert unit_problems(UnitKind.DRONE, Mode.DRONE, ["laser"])[0].startswith(
        "capabilities: unknown capability 'laser'"
    )


def test_reports_from_the_future() -> None:
    check_report_time(NOW + timedelta(seconds=300), NOW)  # clock drift within tolerance
    with pytest.raises(FuturePosition, match=r"timestamp: .* is 301 s in the future"):
        check_report_time(NOW + timedelta(seconds=301), NOW)


def test_age_and_late_reports() -> None:
    assert position_age_s(NOW - timedelta(seconds=42), NOW) == 42
    assert position_age_s(NOW + timedelta(seconds=10), NOW) == 0
    assert supersedes(NOW, None)
    assert supersedes(NOW, NOW - timedelta(seconds=1))
    assert not supersedes(NOW - timedelta(seconds=1), NOW)


def test_post_locations(tiny: Scenario) -> None:
    found = post_locations(tiny.posts)
    assert found["pt-a"] == pytest.approx(lonlat((0, 0)))
    # seg-north runs C(200,200) -> D(0,200): its middle is (100,200).
    x, y = LocalProjection(*ORIGIN).to_xy(*found["seg-north"])
    assert (x, y) == pytest.approx((100, 200), abs=0.05)


def test_midpoint_is_measured_along_the_line(tiny: Scenario) -> None:
    # An L: 300 m east then 100 m north; the middle (200 m along) is on the first leg.
    post = tiny.posts[1].model_copy(
        update={
            "geometry": {
                "type": "LineString",
                "coordinates": [lonlat((0, 0)), lonlat((300, 0)), lonlat((300, 100))],
            }
        }
    )
    x, y = LocalProjection(*ORIGIN).to_xy(*post_location(post))
    assert (x, y) == pytest.approx((200, 0), abs=0.5)  # a plane, not the ellipsoid: within 0.5 m


@dataclass
class _Unit:
    lon: float | None = None
    lat: float | None = None
    reported_at: datetime | None = None
    home_post_id: str | None = None


POSTS = {"home": (120.5, 30.5)}
HERE = {"lon": 120.1, "lat": 30.1}


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        (_Unit(**HERE, reported_at=NOW - timedelta(seconds=60), home_post_id="home"),
         DispatchLocation(120.1, 30.1, LocationSource.POSITION, "fresh_position")),
        (_Unit(**HERE, reported_at=NOW - timedelta(seconds=61), home_post_id="home"),
         DispatchLocation(120.5, 30.5, LocationSource.HOME_POST, "stale_position_used_home_post")),
        (_Unit(home_post_id="home"),
         DispatchLocation(120.5, 30.5, LocationSource.HOME_POST, "no_position_home_post")),
        (_Unit(**HERE, reported_at=NOW - timedelta(hours=1)),
         DispatchLocation(120.1, 30.1, LocationSource.POSITION, "stale_position_no_home_post")),
        (_Unit(**HERE, reported_at=NOW + timedelta(seconds=30)),
         DispatchLocation(120.1, 30.1, LocationSource.POSITION, "fresh_position")),
        (_Unit(), None),
        (_Unit(home_post_id="gone-in-a-reload"), None),
    ],
)  # fmt: skip
def test_dispatch_location(unit: _Unit, expected: DispatchLocation | None) -> None:
    assert dispatch_location(unit, POSTS, NOW, 60) == expected


def test_dispatch_location_unpacks_as_a_tuple() -> None:
    lon, lat, source, reason = dispatch_location(_Unit(home_post_id="home"), POSTS, NOW, 60)  # type: ignore[misc]
    assert (lon, lat, source, reason) == (120.5, 30.5, "home_post", "no_position_home_post")
