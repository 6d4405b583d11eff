"""Guards' certificates, joint stations, joint tasks and training in the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lakeguard.forces.models import UnitCreate
from lakeguard.forces.roster import create_unit, put_company
from lakeguard.security import service
from lakeguard.security.engine import CertificateKind, TaskType, TrainingType
from lakeguard.store.session import make_sessionmaker
from lakeguard.venue.loader import Scenario
from lakeguard.venue.service import store_scenario

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
DAY = date(2026, 5, 4)


def _unit(unit_id: str, **fields: object) -> UnitCreate:
    data: dict[str, object] = {
        "id": unit_id, "callsign": unit_id.upper(), "name": {"zh": unit_id, "en": unit_id},
        "kind": "officer", "mode": "walk", "capabilities": [], "station": "west",
        "home_post": "pt-a", "shift": "08:00-20:00",
    }  # fmt: skip
    data.update(fields)
    return UnitCreate.model_validate(data)


@pytest.fixture
def session(db_engine: Engine, tiny: Scenario) -> Iterator[Session]:
    """The tiny park with an officer ``w-p01`` and guards ``g-1``, ``g-2`` (acme), ``g-3`` (beta)."""
    with make_sessionmaker(db_engine)() as session:
        store_scenario(session, scenario=tiny, now=T0)
        put_company(session, company_id="acme", name={"zh": "安保", "en": "Acme"})
        put_company(session, company_id="beta", name={"zh": "贝塔", "en": "Beta"})
        guards = {"g-1": "acme", "g-2": "acme", "g-3": "beta"}
        units = [_unit("w-p01")] + [
            _unit(g, kind="security_guard", station=None, company=c) for g, c in guards.items()
        ]
        for data in units:
            create_unit(session, venue=tiny, data=data, actor="test", now=T0)
        session.commit()
        yield session


def test_a_certificate_is_a_guards_and_expires_after_it_is_issued(session: Session) -> None:
    first = service.add_certificate(session, unit_id="g-1", kind=CertificateKind.SECURITY_GUARD,
                                    number="ZJ-001", issued_on=date(2024, 1, 1),
                                    expires_on=date(2029, 1, 1))  # fmt: skip
    second = service.add_certificate(session, unit_id="g-1", kind=CertificateKind.LIFEGUARD,
                                     number="", issued_on=None, expires_on=None)  # fmt: skip
    with pytest.raises(service.InvalidRecord, match="w-p01 is not a guard"):
        service.add_certificate(session, unit_id="w-p01", kind=CertificateKind.FIRST_AID,
                                number="", issued_on=None, expires_on=None)  # fmt: skip
    with pytest.raises(service.InvalidRecord, match="expire before it is issued"):
        service.add_certificate(session, unit_id="g-2", kind=CertificateKind.FIRST_AID,
                                number="", issued_on=date(2025, 1, 2),
                                expires_on=date(2025, 1, 1))  # fmt: skip
    with pytest.raises(service.InvalidRecord, match="unknown units: g-9"):
        service.add_certificate(session, unit_id="g-9", kind=CertificateKind.FIRST_AID,
                                number="", issued_on=None, expires_on=None)  # fmt: skip
    listed = service.list_certificates(session, unit_id="g-1")
    assert [(c.id, c.kind) for c in listed] == [(first.id, "security_guard"),
                                                (second.id, "lifeguard")]  # fmt: skip
    assert service.list_certificates(session, unit_id="g-2") == []


def test_a_joint_station_is_at_a_police_station_of_the_venue(
    session: Session, tiny: Scenario
) -> None:
    with pytest.raises(service.InvalidRecord, match="unknown station 'north'; known: east, west"):
        service.create_joint_station(session, venue=tiny, joint_station_id="js-n", name="北",
                                     station_id="north", now=T0)  # fmt: skip
    for joint, station in (("js-w", "west"), ("js-e", "east")):
        service.create_joint_station(session, venue=tiny, joint_station_id=joint, name=joint,
                                     station_id=station, now=T0)  # fmt: skip
    assert [j.id for j in service.list_joint_stations(session)] == ["js-e", "js-w"]
    assert service.get_joint_station(session, joint_station_id="js-w").station_id == "west"
    with pytest.raises(service.RecordNotFound, match="no joint station 'js-n'"):
        service.get_joint_station(session, joint_station_id="js-n")


@pytest.fixture
def joint(session: Session, tiny: Scenario) -> str:
    service.create_joint_station(session, venue=tiny, joint_station_id="js-w", name="西联勤",
                                 station_id="west", now=T0)  # fmt: skip
    return "js-w"


def test_units_are_attached_once(session: Session, joint: str) -> None:
    added = service.attach_units(session, joint_station_id=joint, unit_ids=["g-2", "w-p01", "g-2"],
                                 now=T0)  # fmt: skip
    assert added == ["g-2", "w-p01"]
    again = service.attach_units(session, joint_station_id=joint, unit_ids=["w-p01", "g-1"], now=T0)
    assert again == ["g-1"]
    assert service.members_of(session, joint_station_id=joint) == ["g-1", "g-2", "w-p01"]
    with pytest.raises(service.InvalidRecord, match="unknown units: nobody"):
        service.attach_units(session, joint_station_id=joint, unit_ids=["g-3", "nobody"], now=T0)
    assert "g-3" not in service.members_of(session, joint_station_id=joint)
    with pytest.raises(service.RecordNotFound):
        service.attach_units(session, joint_station_id="js-x", unit_ids=["g-1"], now=T0)


def test_joint_tasks_are_listed_by_date_and_shift_with_their_units(
    session: Session, joint: str
) -> None:
    def plan(on_date: date, shift: str, units: list[str]) -> int:
        return service.plan_task(session, joint_station_id=joint, type=TaskType.NIGHT_PATROL,
                                 on_date=on_date, shift=shift, unit_ids=units, actor="c",
                                 now=T0, place="断桥").id  # fmt: skip

    late = plan(DAY, "18:00-23:00", ["w-p01", "g-1", "g-1"])
    early = plan(DAY, "08:00-12:00", ["g-2"])
    tomorrow = plan(date(2026, 5, 5), "24h", ["g-1"])
    with pytest.raises(service.InvalidRecord, match="a shift is 24h or HH:MM-HH:MM"):
        plan(DAY, "evening", ["g-1"])
    with pytest.raises(service.InvalidRecord, match="unknown units: g-9"):
        plan(DAY, "24h", ["g-9"])

    listed = service.list_tasks(session)
    assert [(t.id, units) for t, units in listed] == [
        (early, ["g-2"]), (late, ["g-1", "w-p01"]), (tomorrow, ["g-1"]),
    ]  # fmt: skip
    assert [t.id for t, _ in service.list_tasks(session, on_date=DAY)] == [early, late]
    assert service.list_tasks(session, joint_station_id="js-other") == []


def test_training_attendance_feeds_the_training_report(session: Session, joint: str) -> None:
    drill = service.record_training(session, type=TrainingType.WATER_RESCUE, held_on=DAY,
                                    unit_ids=["g-1", "w-p01"], actor="c", now=T0,
                                    joint_station_id=joint)  # fmt: skip
    old = service.record_training(
        session,
        type=TrainingType.FIRST_AID,
        held_on=date(2026, 3, 1),
        unit_ids=["g-1"],
        actor="c",
        now=T0,
    )
    assert service.add_attendance(session, session_id=drill.id, unit_ids=["g-1", "g-2"]) == ["g-2"]
    with pytest.raises(service.RecordNotFound, match="no training session 999"):
        service.add_attendance(session, session_id=999, unit_ids=["g-1"])
    with pytest.raises(service.RecordNotFound):
        service.record_training(session, type=TrainingType.FIRE, held_on=DAY, unit_ids=[],
                                actor="c", now=T0, joint_station_id="js-x")  # fmt: skip

    assert [t.id for t in service.list_trainings(session)] == [old.id, drill.id]
    assert [t.id for t in service.list_trainings(session, since=DAY)] == [drill.id]
    guards, attended = service.training_inputs(session)
    assert {company: sorted(units) for company, units in guards.items()} == {
        "acme": ["g-1", "g-2"], "beta": ["g-3"],
    }  # fmt: skip
    assert sorted(attended["g-1"]) == [date(2026, 3, 1), DAY]
    assert attended["g-2"] == [DAY] and attended["w-p01"] == [DAY]
    assert "g-3" not in attended
