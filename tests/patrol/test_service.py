"""A local day's patrol compliance from stored positions, on the tiny park."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from lakeguard.forces.engine import PositionReport
from lakeguard.forces.roster import create_unit
from lakeguard.forces.service import record_position
from lakeguard.patrol.service import day_compliance, shift_windows
from lakeguard.store.session import make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario
from lakeguard.venue.network import TravelNetwork
from lakeguard.venue.service import store_scenario
from tests.factories import C, D, lonlat
from tests.forces.conftest import unit_data

ZONE = ZoneInfo("Asia/Shanghai")
DAY = date(2024, 5, 1)
TEN_AM = datetime(2024, 5, 1, 10, 0, tzinfo=ZONE)


def test_shift_windows_in_a_local_day() -> None:
    start = datetime(2024, 5, 1, tzinfo=ZONE)
    assert shift_windows("08:00-20:00", start, ZONE) == [
        (start + timedelta(hours=8), start + timedelta(hours=20))
    ]
    assert shift_windows("22:00-06:00", start, ZONE) == [
        (start, start + timedelta(hours=6)),
        (start + timedelta(hours=22), start + timedelta(days=1)),
    ]
    assert shift_windows("24h", start, ZONE) == [(start, start + timedelta(days=1))]


def test_a_walker_on_its_segment_and_an_officer_who_never_reported(
    db_engine: Engine, tiny: Scenario, tiny_network: TravelNetwork
) -> None:
    sessions = make_sessionmaker(db_engine)
    t0 = TEN_AM.astimezone(UTC)
    with transaction(sessions) as session:
        store_scenario(session, scenario=tiny, now=t0)
        walker = unit_data("w-n01", home_post="seg-north", shift="10:00-11:00")
        create_unit(session, venue=tiny, data=walker, actor="test", now=t0)
        create_unit(session, venue=tiny, data=unit_data("w-p01"), actor="test", now=t0)
        # Along the north path C → D and back, a fix a minute (200 m at about 1.3 m/s).
        for minute in range(61):
            phase = (minute % 10) / 5
            share = phase if phase <= 1 else 2 - phase
            x = C[0] + share * (D[0] - C[0])
            lon, lat = lonlat((x, C[1]))
            report = PositionReport(lat=lat, lon=lon, reported_at=t0 + timedelta(minutes=minute))
            record_position(session, unit_id="w-n01", report=report, source="api",
                            now=t0 + timedelta(minutes=minute), max_age_s=900)  # fmt: skip
    with sessions() as session:
        found = day_compliance(
            session, scenario=tiny, network=tiny_network, day=DAY, now=t0 + timedelta(hours=14)
        )
    by_unit = {u.unit_id: u for u in found.units}
    walker_found = by_unit["w-n01"]
    assert walker_found.post_kind == "segment" and walker_found.fixes == 61
    assert walker_found.walked_share == pytest.approx(1.0)
    assert walker_found.away_share == 0.0
    assert walker_found.tracked_s == walker_found.on_duty_s == 3600
    officer = by_unit["w-p01"]
    assert officer.tracked_s == 0 and officer.away_share is None
    assert officer.on_duty_s == 12 * 3600
