"""The worker over a real database (SQLite, and PostgreSQL when configured): outbox in,
messages out to local servers, with an explicit clock."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from lakeguard.community.models import CommunityRow, LiaisonGroupRow
from lakeguard.crowd.events import AlertLevelChanged
from lakeguard.notify.models import DeliveryRow, NotifyCursorRow, NotifyMessageRow
from lakeguard.notify.service import list_deliveries, plan_new_events, venue_directory
from lakeguard.notify.targets import parse_targets
from lakeguard.notify.worker import Notifier
from lakeguard.store.outbox import emit
from lakeguard.store.session import make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario
from tests.notify.servers import Recorder, recording_server

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


@pytest.fixture
def sessions(db_engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(db_engine)


@pytest.fixture
def server() -> Iterator[Recorder]:
    with recording_server() as recorder:
        yield recorder


def _notifier(
    sessions: sessionmaker[Session],
    westlake: Scenario,
    targets: list[dict[str, Any]],
    station: str = "yuemiao",
) -> Iterator[Notifier]:
    configured = {t.name: t for t in parse_targets(targets)}
    directory = venue_directory(
        westlake, station_targets={station: list(configured)}, officer_targets={}
    )
    notifier = Notifier(sessions, configured, directory, client=httpx.Client())
    notifier.start(now=T0)
    yield notifier
    notifier.close()


@pytest.fixture
def wecom(
    sessions: sessionmaker[Session], westlake: Scenario, server: Recorder
) -> Iterator[Notifier]:
    target = {
        "name": "yuemiao-wecom",
        "type": "wecom",
        "key": WECOM_KEY,
        "url": f"{server.url}/cgi-bin/webhook/send",
    }
    yield from _notifier(sessions, westlake, [target])


@pytest.fixture
def webhook(
    sessions: sessionmaker[Session], westlake: Scenario, server: Recorder
) -> Iterator[Notifier]:
    target = {
        "name": "yuemiao-hook",
        "type": "webhook",
        "url": f"{server.url}/hook",
        "secret": "whsec-0123456789",
        "max_attempts": 3,
    }
    yield from _notifier(sessions, westlake, [target])


def _red_alert(sessions: sessionmaker[Session], at: datetime, alert_id: int = 1) -> None:
    with transaction(sessions) as session:
        emit(
            session,
            AlertLevelChanged(
                occurred_at=at,
                alert_id=alert_id,
                area_id="broken-bridge",
                previous="orange",
                level="red",
                cause="occupancy",
                ratio=1.05,
                density=2.4,
            ),
        )


def _run(notifier: Notifier, seconds: range) -> None:
    for s in seconds:
        notifier.run_once(now=T0 + timedelta(seconds=s))


def _deliveries(sessions: sessionmaker[Session]) -> list[DeliveryRow]:
    with sessions() as session:
        return list(session.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))


def test_twenty_red_alerts_at_broken_bridge_in_a_minute_reach_wecom_as_one_message(
    wecom: Notifier, sessions: sessionmaker[Session], server: Recorder
) -> None:
    for i in range(20):
        at = 3 * i
        _run(wecom, range(at - 2 if i else 0, at))
        _red_alert(sessions, T0 + timedelta(seconds=at), alert_id=i)
    _run(wecom, range(57, 120))
    (seen,) = server.seen
    content = seen.json()["text"]["content"]
    assert content.startswith("LakeGuard digest: 20 notices")
    assert content.count("Broken Bridge") == 20
    assert seen.json()["text"]["mentioned_list"] == ["@all"]
    deliveries = _deliveries(sessions)
    assert len(deliveries) == 20
    assert {d.status for d in deliveries} == {"sent"}
    assert len({d.message_id for d in deliveries}) == 1


def test_a_retry_after_a_500_sends_once_more_and_never_twice(
    webhook: Notifier, sessions: sessionmaker[Session], server: Recorder
) -> None:
    server.reply(500, {"error": "boom"})
    _red_alert(sessions, T0)
    _run(webhook, range(0, 1))
    (delivery,) = _deliveries(sessions)
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert delivery.next_attempt_at == T0 + timedelta(seconds=10)
    _run(webhook, range(1, 10))
    assert len(server.seen) == 1
    _run(webhook, range(10, 300))
    assert len(server.seen) == 2
    assert server.seen[0].headers["Idempotency-Key"] == server.seen[1].headers["Idempotency-Key"]
    (delivery,) = _deliveries(sessions)
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    # Reading the outbox again from the start plans nothing new: the key exists.
    with transaction(sessions) as session:
        session.execute(update(NotifyCursorRow).values(after_id=0))
    _run(webhook, range(300, 320))
    assert len(server.seen) == 2 and len(_deliveries(sessions)) == 1
    with sessions() as session:
        outcomes = session.scalars(
            select(NotifyMessageRow.outcome).order_by(NotifyMessageRow.id)
        ).all()
    assert outcomes == ["retry", "ok"]


def test_a_delivery_claimed_by_another_worker_is_not_sent(
    webhook: Notifier, sessions: sessionmaker[Session], server: Recorder
) -> None:
    _red_alert(sessions, T0)
    with transaction(sessions) as session:
        plan_new_events(session, webhook.directory, known_targets=webhook.targets, now=T0)
        session.execute(update(DeliveryRow).values(status="sending", claimed_at=T0))
    _run(webhook, range(0, 60))
    assert server.seen == []
    # A claim older than the lease is a worker that died mid-send: released, sent once.
    webhook.start(now=T0 + timedelta(minutes=6))
    _run(webhook, range(360, 362))
    assert len(server.seen) == 1


def test_after_the_last_attempt_a_delivery_is_a_dead_letter(
    webhook: Notifier, sessions: sessionmaker[Session], server: Recorder
) -> None:
    server.default = (503, {})
    _red_alert(sessions, T0)
    _run(webhook, range(0, 200))
    assert len(server.seen) == 3  # max_attempts: at 0, 10 and 30 s
    with sessions() as session:
        (dead,) = list_deliveries(session, status="dead")
        assert dead.attempts == 3 and dead.last_error == "HTTP 503"
        assert list_deliveries(session, status="sent") == []


def test_a_refused_message_is_dead_at_once(
    webhook: Notifier, sessions: sessionmaker[Session], server: Recorder
) -> None:
    server.reply(400, {"error": "bad"})
    _red_alert(sessions, T0)
    _run(webhook, range(0, 60))
    assert len(server.seen) == 1
    assert [d.status for d in _deliveries(sessions)] == ["dead"]


def test_secrets_never_reach_the_logs(
    wecom: Notifier,
    sessions: sessionmaker[Session],
    server: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server.reply(200, {"errcode": 93000, "errmsg": f"invalid webhook url key={WECOM_KEY}"})
    _red_alert(sessions, T0)
    _run(wecom, range(0, 10))
    assert "HTTP Request" in caplog.text  # httpx did log the request, redacted
    assert "…5aaa" in caplog.text
    assert WECOM_KEY not in caplog.text
    (delivery,) = _deliveries(sessions)
    assert delivery.status == "dead" and WECOM_KEY not in delivery.last_error


def test_liaison_groups_of_the_station_are_told(
    sessions: sessionmaker[Session], westlake: Scenario, server: Recorder
) -> None:
    targets = [
        {
            "name": "group-a",
            "type": "webhook",
            "url": f"{server.url}/a",
            "secret": "whsec-aaaa1111",
        },
        {
            "name": "group-b",
            "type": "webhook",
            "url": f"{server.url}/b",
            "secret": "whsec-bbbb2222",
        },
    ]
    with transaction(sessions) as session:
        for name, station in (("断桥社区", "yuemiao"), ("灵隐社区", "lingyin")):
            community = CommunityRow(
                venue_id="westlake",
                name=name,
                station_id=station,
                registered_population=100,
                reachable_population=90,
                created_at=T0,
            )
            session.add(community)
            session.flush()
            target = "group-a" if station == "yuemiao" else "group-b"
            session.add(
                LiaisonGroupRow(
                    community_id=community.id,
                    name=f"{name}群",
                    channel="webhook",
                    members=50,
                    notify_target=target,
                    created_at=T0,
                )
            )
    configured = {t.name: t for t in parse_targets(targets)}
    notifier = Notifier(
        sessions,
        configured,
        venue_directory(westlake, station_targets={}, officer_targets={}),
        client=httpx.Client(),
    )
    notifier.start(now=T0)
    _red_alert(sessions, T0)
    _run(notifier, range(0, 3))
    notifier.close()
    assert [s.path for s in server.seen] == ["/a"]
