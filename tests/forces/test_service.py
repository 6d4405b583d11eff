"""The status action, positions and dispatchable units, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from lakeguard.events import event_from_payload
from lakeguard.forces.engine import (
    FuturePosition,
    InvalidTransition,
    PositionReport,
    UnitStatus,
    post_locations,
)
from lakeguard.forces.events import UnitPositionReported, UnitStatusChanged
from lakeguard.forces.labels import InvalidLabel
from lakeguard.forces.models import UnitPositionRow, UnitStatusRow
from lakeguard.forces.service import (
    UnitNotFound,
    change_unit_status,
    dispatchable_units,
    get_unit,
    get_unit_by_device,
    list_units,
    record_position,
    status_history,
    track,
)
from lakeguard.store.outbox import OutboxRow
from lakeguard.store.session import transaction
from lakeguard.venue.loader import Scenario
from tests.factories import lonlat
from tests.forces.conftest import T0

S = UnitStatus


def outbox(session: Session) -> list[object]:
    rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
    return [event_from_payload(r.topic, r.payload) for r in rows]


def count(session: Session, table: type) -> int:
    return session.scalar(select(func.count()).select_from(table)) or 0


def test_a_status_change_writes_state_history_and_event_together(
    sessions: sessionmaker[Session],
) -> None:
    now = T0 + timedelta(minutes=5)
    with transaction(sessions) as session:
        change_unit_status(
            session, unit_id="w-p01", status=S.ASSIGNED, actor="dispatcher-1", now=now
        )
    with sessions() as session:
        unit = get_unit(session, unit_id="w-p01")
        assert (unit.status, unit.status_label, unit.status_changed_at) == ("assigned", None, now)
        history = status_history(session, unit_id="w-p01")
        assert [(h.previous, h.status, h.actor) for h in history] == [
            (None, "available", "test"), ("available", "assigned", "dispatcher-1"),
        ]  # fmt: skip
        (changed,) = outbox(session)
        assert changed == UnitStatusChanged(
            event_id=changed.event_id, occurred_at=now, unit_id="w-p01",  # type: ignore[attr-defined]
            status=S.ASSIGNED, label=None, previous=S.AVAILABLE,
        )  # fmt: skip


def test_a_failed_transaction_leaves_nothing(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        change_unit_status(session, unit_id="w-p01", status="assigned", actor="d", now=T0)
        raise RuntimeError("the dispatch around it failed")
    with sessions() as session:
        assert get_unit(session, unit_id="w-p01").status == "available"
        assert count(session, OutboxRow) == 0 and len(status_history(session, unit_id="w-p01")) == 1


def test_refused_changes_write_nothing(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        with pytest.raises(InvalidTransition, match="available cannot become on_scene"):
            change_unit_status(session, unit_id="w-p01", status=S.ON_SCENE, actor="d", now=T0)
        with pytest.raises(InvalidLabel, match="label of unavailable, not of available"):
            change_unit_status(
                session, unit_id="w-p01", status=S.AVAILABLE, label="meal_break", actor="d", now=T0
            )
        with pytest.raises(UnitNotFound):
            change_unit_status(session, unit_id="nobody", status=S.ASSIGNED, actor="d", now=T0)
        with pytest.raises(ValueError, match="'asleep' is not a valid UnitStatus"):
            change_unit_status(session, unit_id="w-p01", status="asleep", actor="d", now=T0)
    with sessions() as session:
        assert count(session, OutboxRow) == 0 and count(session, UnitStatusRow) == 3


def test_labels_and_repeats(sessions: sessionmaker[Session]) -> None:
    later = T0 + timedelta(minutes=1)
    with transaction(sessions) as session:
        change_unit_status(
            session, unit_id="w-p01", status=S.AVAILABLE, label="at_post", actor="o", now=later
        )
        # The same status and label again is not a change: nothing is recorded.
        change_unit_status(
            session, unit_id="w-p01", status=S.AVAILABLE, label="at_post", actor="o", now=later
        )
        change_unit_status(
            session, unit_id="w-p01", status=S.UNAVAILABLE, label="meal_break", actor="o", now=later
        )
    with sessions() as session:
        unit = get_unit(session, unit_id="w-p01")
        assert (unit.status, unit.status_label) == ("unavailable", "meal_break")
        events = outbox(session)
        assert [(e.status, e.label, e.previous) for e in events] == [  # type: ignore[attr-defined]
            (S.AVAILABLE, "at_post", S.AVAILABLE), (S.UNAVAILABLE, "meal_break", S.AVAILABLE),
        ]  # fmt: skip
        assert len(status_history(session, unit_id="w-p01")) == 3


def report(seconds_after_t0: float, x: float = 0, y: float = 0) -> PositionReport:
    lon, lat = lonlat((x, y))
    return PositionReport(lat=lat, lon=lon, reported_at=T0 + timedelta(seconds=seconds_after_t0),
                          accuracy_m=5, speed_ms=1.2, bearing_deg=90, battery=80,
                          attributes={"hdop": "0.9"})  # fmt: skip


def test_positions_late_and_future(sessions: sessionmaker[Session]) -> None:
    now = T0 + timedelta(seconds=100)
    with transaction(sessions) as session:
        first = record_position(
            session,
            unit_id="boat-1",
            report=report(90, 300, 200),
            source="osmand",
            now=now,
            max_age_s=60,
        )
        # Sent earlier, delivered later: kept in the track, not the latest.
        late = record_position(
            session,
            unit_id="boat-1",
            report=report(30, 250, 200),
            source="osmand",
            now=now,
            max_age_s=60,
        )
        with pytest.raises(FuturePosition):
            record_position(
                session,
                unit_id="boat-1",
                report=report(100 + 301),
                source="osmand",
                now=now,
                max_age_s=60,
            )
    assert (first.latest, first.stale, late.latest, late.stale) == (True, False, False, True)
    with sessions() as session:
        unit = get_unit(session, unit_id="boat-1")
        assert (unit.lon, unit.lat) == tuple(lonlat((300, 200)))
        assert unit.reported_at == T0 + timedelta(seconds=90)
        assert (unit.accuracy_m, unit.speed_ms, unit.bearing_deg, unit.battery) == (5, 1.2, 90, 80)
        rows = track(session, unit_id="boat-1")
        assert [(r.reported_at, r.late) for r in rows] == [
            (T0 + timedelta(seconds=30), True), (T0 + timedelta(seconds=90), False),
        ]  # fmt: skip
        assert rows[0].attributes == {"hdop": "0.9"} and rows[0].received_at == now
        (moved,) = outbox(session)
        assert isinstance(moved, UnitPositionReported)
        assert (moved.unit_id, moved.reported_at, moved.stale) == (
            "boat-1",
            T0 + timedelta(seconds=90),
            False,
        )
        assert count(session, UnitPositionRow) == 2


def test_lookups(session: Session) -> None:
    assert get_unit_by_device(session, device_id="tracker-boat").id == "boat-1"
    with pytest.raises(UnitNotFound, match="device id 'tracker-x'"):
        get_unit_by_device(session, device_id="tracker-x")
    assert [u.id for u in list_units(session, venue_id="tinypark")] == ["boat-1", "team-1", "w-p01"]
    assert [u.id for u in list_units(session, venue_id="tinypark", station="east")] == ["boat-1"]
    assert [u.id for u in list_units(session, venue_id="tinypark", kind="team")] == ["team-1"]  # type: ignore[arg-type]
    assert [u.id for u in list_units(session, venue_id="tinypark", capability="water_rescue")] == [
        "boat-1"
    ]  # type: ignore[arg-type]
    assert list_units(session, venue_id="tinypark", status=S.OFF_DUTY) == []


def test_dispatchable_units_fall_back_to_home_posts(
    sessions: sessionmaker[Session], tiny: Scenario, db_engine: Engine
) -> None:
    with transaction(sessions) as session:
        record_position(
            session,
            unit_id="boat-1",
            report=report(0, 300, 200),
            source="api",
            now=T0,
            max_age_s=60,
        )
    posts = post_locations(tiny.posts)
    statements: list[str] = []
    event.listen(db_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with sessions() as session:
        fresh = {
            u.id: u
            for u in dispatchable_units(
                session, venue=tiny, now=T0 + timedelta(seconds=60), max_age_s=60
            )
        }
        assert len(statements) == 1  # one query for every unit
        later = {
            u.id: u
            for u in dispatchable_units(
                session, venue=tiny, now=T0 + timedelta(seconds=61), max_age_s=60
            )
        }
    assert set(fresh) == {"boat-1", "w-p01"}  # team-1 has neither a position nor a home post
    boat = fresh["boat-1"]
    assert (boat.lon, boat.lat) == tuple(lonlat((300, 200)))
    assert (boat.location_source, boat.location_reason, boat.stale, boat.position_age_s) == (
        "position",
        "fresh_position",
        False,
        60,
    )
    assert (
        boat.capabilities == frozenset({"water_rescue"})
        and boat.mode == "boat"
        and boat.station == "east"
    )
    officer = fresh["w-p01"]
    assert (officer.lon, officer.lat) == posts["pt-a"]
    assert (
        officer.location_source,
        officer.location_reason,
        officer.stale,
        officer.position_age_s,
    ) == ("home_post", "no_position_home_post", True, None)
    stale = later["boat-1"]
    assert (stale.lon, stale.lat) == posts["seg-lake"]
    assert (stale.location_source, stale.location_reason, stale.stale, stale.position_age_s) == (
        "home_post",
        "stale_position_used_home_post",
        True,
        61,
    )


def test_dispatchable_units_by_status(sessions: sessionmaker[Session], tiny: Scenario) -> None:
    with transaction(sessions) as session:
        change_unit_status(session, unit_id="w-p01", status=S.OFF_DUTY, actor="o", now=T0)
        free = dispatchable_units(session, venue=tiny, now=T0, max_age_s=60, statuses=[S.AVAILABLE])
        every = dispatchable_units(session, venue=tiny, now=T0, max_age_s=60)
    assert [u.id for u in free] == ["boat-1"]
    assert {u.id: u.status for u in every} == {"boat-1": S.AVAILABLE, "w-p01": S.OFF_DUTY}
