"""Communities, liaison groups and residents' cases in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lakeguard.auth import service as users
from lakeguard.community import cases, service
from lakeguard.community.engine import ActionKind, CaseStatus, Category, Channel, Source
from lakeguard.community.events import CaseReminder, CaseStatusChanged
from lakeguard.community.models import CaseRow
from lakeguard.community.seed import CommunitySpec, GroupSpec
from lakeguard.forces.models import UnitCreate
from lakeguard.forces.roster import create_unit
from lakeguard.store.outbox import OutboxRow
from lakeguard.store.session import make_sessionmaker
from lakeguard.venue.loader import Scenario
from lakeguard.venue.service import store_scenario

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
HOURS = {c: 48.0 for c in Category}


@pytest.fixture
def session(db_engine: Engine, tiny: Scenario) -> Iterator[Session]:
    """A session on the tiny park with one officer of its west station, ``w-p01``."""
    with make_sessionmaker(db_engine)() as session:
        store_scenario(session, scenario=tiny, now=T0)
        officer = UnitCreate.model_validate({
            "id": "w-p01", "callsign": "W-P01", "name": {"zh": "民警", "en": "Officer"},
            "kind": "officer", "mode": "walk", "capabilities": ["first_aid"],
            "station": "west", "home_post": "pt-a", "shift": "08:00-20:00",
        })  # fmt: skip
        create_unit(session, venue=tiny, data=officer, actor="test", now=T0)
        session.commit()
        yield session


def _community(session: Session, tiny: Scenario, name: str, station: str = "west") -> int:
    row = service.create_community(
        session, venue=tiny, name=name, station_id=station, registered_population=1000,
        reachable_population=800, now=T0,
    )  # fmt: skip
    return row.id


def _group(session: Session, community_id: int, name: str, members: int) -> int:
    row = service.create_group(
        session, community_id=community_id, name=name, channel=Channel.WECOM, members=members,
        notify_target=None, now=T0,
    )  # fmt: skip
    return row.id


def _events(session: Session, topic: str) -> list[dict[str, Any]]:
    query = select(OutboxRow.payload).where(OutboxRow.topic == topic).order_by(OutboxRow.id)
    return list(session.scalars(query))


# -- communities and groups -----------------------------------------------------------------


def test_a_community_needs_a_known_station_and_a_reachable_part(
    session: Session, tiny: Scenario
) -> None:
    with pytest.raises(
        service.InvalidCommunity, match="unknown station 'north'; known: east, west"
    ):
        _community(session, tiny, "北山", station="north")
    with pytest.raises(service.InvalidCommunity, match="reachable population"):
        service.create_community(
            session, venue=tiny, name="北山", station_id="west", registered_population=100,
            reachable_population=101, now=T0,
        )  # fmt: skip
    assert service.list_communities(session) == []


def test_communities_are_listed_by_station_and_name(session: Session, tiny: Scenario) -> None:
    b = _community(session, tiny, "b 社区", station="west")
    a = _community(session, tiny, "a 社区", station="west")
    east = _community(session, tiny, "东社区", station="east")
    assert [c.id for c in service.list_communities(session)] == [east, a, b]
    assert [c.id for c in service.list_communities(session, station="west")] == [a, b]
    assert service.get_community(session, community_id=east).station_id == "east"
    with pytest.raises(service.CommunityNotFound, match="no community 999"):
        service.get_community(session, community_id=999)


def test_groups_belong_to_a_community_and_count_in_its_figures(
    session: Session, tiny: Scenario
) -> None:
    west = _community(session, tiny, "北山")
    east = _community(session, tiny, "东社区", station="east")
    empty = _community(session, tiny, "空社区")
    first = _group(session, west, "一群", 300)
    second = _group(session, west, "二群", 200)
    other = _group(session, east, "东群", 50)
    with pytest.raises(service.InvalidCommunity, match="negative"):
        _group(session, west, "错群", -1)
    with pytest.raises(service.CommunityNotFound):
        _group(session, 999, "无家群", 10)

    assert [g.id for g in service.list_groups(session)] == [first, second, other]
    assert [g.id for g in service.list_groups(session, community_id=west)] == [first, second]
    assert [g.id for g in service.list_groups(session, station="east")] == [other]
    figures = {f.community_id: f for f in service.community_figures(session)}
    assert (figures[west].groups, figures[west].members) == (2, 500)
    assert (figures[east].groups, figures[east].members) == (1, 50)
    assert (figures[empty].groups, figures[empty].members) == (0, 0)
    assert (figures[west].registered, figures[west].reachable) == (1000, 800)


def test_model_communities_are_stored_with_their_groups(session: Session, tiny: Scenario) -> None:
    specs = [
        CommunitySpec(name="北山", station_id="west", registered_population=900,
                      reachable_population=700,
                      groups=(GroupSpec(name="北山群", channel="wecom", members=600),)),
        CommunitySpec(name="东社区", station_id="east", registered_population=400,
                      reachable_population=300, groups=()),
    ]  # fmt: skip
    assert service.store_model_communities(session, venue=tiny, specs=specs, now=T0) == 2
    by_name = {f.name: f for f in service.community_figures(session)}
    assert (by_name["北山"].groups, by_name["北山"].members) == (1, 600)
    assert (by_name["东社区"].groups, by_name["东社区"].members) == (0, 0)


# -- cases ----------------------------------------------------------------------------------


def _open(session: Session, **fields: Any) -> CaseRow:
    data: dict[str, Any] = {"category": Category.DISPUTE, "source": Source.CALL,
                               "summary": "树枝压坏了车", "actor": "dispatcher", "now": T0}  # fmt: skip
    data.update(fields)
    return cases.open_case(session, **data)


def test_a_case_from_a_group_takes_its_community_and_station(
    session: Session, tiny: Scenario
) -> None:
    community = _community(session, tiny, "东社区", station="east")
    group = _group(session, community, "东群", 40)
    case = _open(session, source=Source.GROUP, group_id=group)
    assert (case.community_id, case.station_id, case.status) == (community, "east", "received")
    (entry,) = cases.timeline_of(session, case_id=case.id)
    assert (entry.kind, entry.from_status, entry.to_status) == ("status", None, "received")
    (event,) = _events(session, CaseStatusChanged.topic)
    assert {"case_id": case.id, "station_id": "east", "previous": None,
            "status": "received"}.items() <= event.items()  # fmt: skip


def test_a_case_names_a_group_or_community_that_exists(session: Session) -> None:
    with pytest.raises(cases.InvalidCase, match="no liaison group 77"):
        _open(session, group_id=77)
    with pytest.raises(cases.InvalidCase, match="no community 78"):
        _open(session, community_id=78)


def test_a_dispute_goes_from_received_to_closed_with_feedback(session: Session) -> None:
    case = _open(session, station_id="west", category=Category.CONSULTATION)
    cases.triage_case(session, case_id=case.id, actor="d", now=T0, category=Category.DISPUTE)
    cases.assign_case(session, case_id=case.id, officer_unit_id="w-p01", actor="d", now=T0)
    assert (case.category, case.officer_unit_id, case.assigned_at) == ("dispute", "w-p01", T0)

    cases.record_action(session, case_id=case.id, kind=ActionKind.NOTE, actor="o", now=T0)
    assert case.status == "assigned"  # a note does not start the work
    with pytest.raises(cases.InvalidCase, match="at least two"):
        cases.record_action(session, case_id=case.id, kind=ActionKind.MEDIATION, actor="o",
                            now=T0, parties=["王先生"])  # fmt: skip
    cases.record_action(session, case_id=case.id, kind=ActionKind.MEDIATION, actor="o", now=T0,
                        parties=["王先生", "李女士"], note="agreed")  # fmt: skip
    assert case.status == "in_progress"

    later = T0 + timedelta(days=2)
    cases.conclude_case(session, case_id=case.id, outcome=CaseStatus.RESOLVED, detail="赔偿",
                        actor="o", now=later, amount_yuan=300.0)  # fmt: skip
    assert (case.status, case.amount_yuan, case.concluded_at) == ("resolved", 300.0, later)
    cases.close_case(session, case_id=case.id, actor="d", now=later)
    cases.give_feedback(session, case_id=case.id, rating=5, text="满意", actor="r", now=later)
    assert (case.status, case.feedback_rating, case.closed_at) == ("closed", 5, later)
    with pytest.raises(cases.IllegalTransition, match="given already"):
        cases.give_feedback(session, case_id=case.id, rating=1, text="", actor="r", now=later)

    kinds = [(e.kind, e.to_status) for e in cases.timeline_of(session, case_id=case.id)]
    assert kinds == [
        ("status", "received"), ("status", "triaged"), ("status", "assigned"), ("note", None),
        ("mediation", None), ("status", "in_progress"), ("status", "resolved"),
        ("status", "closed"), ("feedback", None),
    ]  # fmt: skip
    moves = [(e["previous"], e["status"]) for e in _events(session, CaseStatusChanged.topic)]
    assert moves == [
        (None, "received"), ("received", "triaged"), ("triaged", "assigned"),
        ("assigned", "in_progress"), ("in_progress", "resolved"), ("resolved", "closed"),
    ]  # fmt: skip


def test_steps_out_of_order_are_refused(session: Session) -> None:
    case = _open(session, station_id="west")
    with pytest.raises(cases.IllegalTransition, match="from received to resolved"):
        cases.conclude_case(session, case_id=case.id, outcome=CaseStatus.RESOLVED, detail="",
                            actor="o", now=T0)  # fmt: skip
    with pytest.raises(cases.IllegalTransition, match="only on an assigned case"):
        cases.record_action(session, case_id=case.id, kind=ActionKind.VISIT, actor="o", now=T0)
    with pytest.raises(cases.IllegalTransition, match="resolved cases"):
        cases.give_feedback(session, case_id=case.id, rating=4, text="", actor="r", now=T0)
    assert case.status == "received"


@pytest.mark.parametrize(
    ("outcome", "detail", "amount", "message"),
    [
        (CaseStatus.CLOSED, "", None, "an outcome is one of"),
        (CaseStatus.REFERRED, "街道办", 100.0, "only a resolved case carries an amount"),
        (CaseStatus.REFERRED, "", None, "say to whom"),
        (CaseStatus.REJECTED, "", None, "say why"),
    ],
)
def test_an_outcome_says_what_it_needs(
    session: Session, outcome: CaseStatus, detail: str, amount: float | None, message: str
) -> None:
    case = _open(session, station_id="west")
    with pytest.raises(cases.InvalidCase, match=message):
        cases.conclude_case(session, case_id=case.id, outcome=outcome, detail=detail,
                            actor="o", now=T0, amount_yuan=amount)  # fmt: skip


def test_a_scope_sees_its_stations_its_officers_or_its_residents_cases(
    session: Session,
) -> None:
    resident = users.create(session, username="resident-wang", roles=["resident"],
                            password=None, actor="test", now=T0)  # fmt: skip
    west = _open(session, station_id="west", resident_user_id=resident.id)
    east = _open(session, station_id="east", now=T0 + timedelta(hours=1))
    cases.triage_case(session, case_id=east.id, actor="d", now=T0)
    cases.assign_case(session, case_id=east.id, officer_unit_id="w-p01", actor="d", now=T0)
    elsewhere = _open(session, station_id="east", now=T0 + timedelta(hours=2))

    def seen(scope: cases.CaseScope, status: str | None = None) -> list[int]:
        return [c.id for c in cases.list_cases(session, scope=scope, status=status)]

    assert seen(cases.EVERYTHING) == [elsewhere.id, east.id, west.id]  # newest first
    assert seen(cases.CaseScope(station_id="west")) == [west.id]
    assert seen(cases.CaseScope(station_id="west", unit_id="w-p01")) == [east.id, west.id]
    assert seen(cases.CaseScope(resident_user_id=resident.id)) == [west.id]
    assert seen(cases.CaseScope()) == []
    assert seen(cases.EVERYTHING, "assigned") == [east.id]
    assert seen(cases.EVERYTHING, "open") == [elsewhere.id, east.id, west.id]
    # Outside its scope a case is reported missing, not forbidden.
    with pytest.raises(cases.CaseNotFound):
        cases.get_case(session, case_id=elsewhere.id, scope=cases.CaseScope(station_id="west"))
    with pytest.raises(cases.CaseNotFound):
        cases.record_action(session, case_id=east.id, kind=ActionKind.NOTE, actor="r", now=T0,
                            scope=cases.CaseScope(resident_user_id=resident.id))  # fmt: skip


def test_reminders_come_once_per_overdue_period_for_open_cases(session: Session) -> None:
    overdue = _open(session, station_id="west")
    done = _open(session, station_id="west")
    cases.triage_case(session, case_id=done.id, actor="d", now=T0)
    cases.conclude_case(session, case_id=done.id, outcome=CaseStatus.REJECTED,
                        detail="not ours", actor="d", now=T0)  # fmt: skip

    assert cases.run_reminders(session, now=T0 + timedelta(hours=47), targets_h=HOURS) == []
    first = cases.run_reminders(session, now=T0 + timedelta(hours=49), targets_h=HOURS)
    assert [(r.case_id, r.period, r.overdue_s) for r in first] == [(overdue.id, 1, 3600.0)]
    assert cases.run_reminders(session, now=T0 + timedelta(hours=50), targets_h=HOURS) == []
    later = cases.run_reminders(session, now=T0 + timedelta(days=10), targets_h=HOURS)
    assert [(r.case_id, r.period > 1) for r in later] == [(overdue.id, True)]
    assert [e["case_id"] for e in _events(session, CaseReminder.topic)] == [overdue.id] * 2
