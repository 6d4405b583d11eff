"""The rules over West Lake: who is told of what."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lakeguard.community.events import CaseStatusChanged
from lakeguard.crowd.events import AlertLevelChanged
from lakeguard.incidents.events import IncidentCreated
from lakeguard.notify.rules import Directory, RuleParams, plan_event
from lakeguard.notify.service import venue_directory
from lakeguard.venue.loader import Scenario

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
BROKEN_BRIDGE = (120.1519, 30.2605)


@pytest.fixture(scope="module")
def directory(westlake: Scenario) -> Directory:
    stations = {s.id: [f"{s.id}-wecom"] for s in westlake.stations}
    return venue_directory(
        westlake, station_targets=stations, officer_targets={"p-007": "wang-mail"}
    )


def _alert(level: str, area: str = "broken-bridge", previous: str = "yellow") -> AlertLevelChanged:
    return AlertLevelChanged(
        occurred_at=NOW,
        alert_id=1,
        area_id=area,
        previous=previous,
        level=level,
        cause="occupancy",
        ratio=1.04,
        density=2.1,
    )


def test_orange_or_red_at_a_hotspot_tells_the_station(directory: Directory) -> None:
    for level, severity in (("orange", "warning"), ("red", "critical")):
        event = _alert(level)
        (send,) = plan_event(event, directory).sends
        assert send[0] == "yuemiao-wecom"
        assert send[1].key == f"{event.event_id}:yuemiao-wecom"
        assert send[1].severity == severity
        assert "Broken Bridge" in send[1].title and level.upper() in send[1].title


def test_yellow_or_a_lake_area_tells_nobody(directory: Directory) -> None:
    assert plan_event(_alert("yellow"), directory).sends == ()
    water = _alert("red", area="outer-lake")  # a lake, not a hotspot
    assert plan_event(water, directory).sends == ()
    assert plan_event(_alert("red"), directory, RuleParams(alert_min_level="red")).sends != ()


def test_a_station_without_target_is_a_logged_skip(westlake: Scenario) -> None:
    bare = venue_directory(westlake, station_targets={}, officer_targets={})
    plan = plan_event(_alert("red"), bare)
    assert plan.sends == () and plan.skipped == (
        "crowd-alert: station 'yuemiao' has no notify target",
    )


def test_a_lost_child_tells_the_stations_within_2_km(directory: Directory) -> None:
    event = IncidentCreated(
        occurred_at=NOW,
        incident_id=12,
        type="lost_child",
        priority=1,
        lon=BROKEN_BRIDGE[0],
        lat=BROKEN_BRIDGE[1],
        area_id="broken-bridge",
        place="断桥",
    )
    targets = [t for t, _ in plan_event(event, directory).sends]
    # Yuemiao 1.1 km, Hubin 1.3 km, Liulang 1.8 km; Lingyin 4.6 km and Xixi 6.9 km away.
    assert targets == ["yuemiao-wecom", "hubin-wecom", "liulang-wecom"]
    other = event.model_copy(update={"type": "lost_property"})
    assert plan_event(other, directory).sends == ()


def test_an_assigned_case_tells_the_officer_by_mail(directory: Directory) -> None:
    event = CaseStatusChanged(
        occurred_at=NOW,
        case_id=5,
        station_id="yuemiao",
        category="dispute",
        previous="triaged",
        status="assigned",
        officer_unit_id="p-007",
        actor="d",
    )
    ((target, notice),) = plan_event(event, directory).sends
    assert target == "wang-mail" and "Case #5" in notice.title
    nobody = event.model_copy(update={"officer_unit_id": "p-999"})
    assert plan_event(nobody, directory).skipped == (
        "case-assigned: officer 'p-999' has no e-mail target",
    )
    assert plan_event(event.model_copy(update={"status": "closed"}), directory).sends == ()
