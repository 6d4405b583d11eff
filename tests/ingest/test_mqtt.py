"""Sensors over MQTT, end to end through a real Mosquitto: the same ingest path as HTTP.

Each test serves West Lake under a venue id of its own, so its topics, retained messages and
the subscriber's broker session are its own.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as paho
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from lakeguard.api.app import create_app
from lakeguard.config import Settings
from lakeguard.ingest.models import ObservationRow, RejectRow
from lakeguard.ingest.mqtt import (
    Broker,
    Channel,
    MqttUrlError,
    Unreadable,
    observations_of,
    sensor_topic,
    status_of,
)
from lakeguard.ingest.schema import MAX_BATCH
from lakeguard.store.session import make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario
from lakeguard.venue.service import store_scenario

MQTT_ENV = "LAKEGUARD_TEST_MQTT_URL"
LOCAL_BROKER = "mqtt://127.0.0.1:1883"
CAMERA = "cam-broken-bridge-deck"
OTHER_CAMERA = "cam-bai-causeway"
GATE = "gate-broken-bridge-north"
T = TypeVar("T")


def listening(broker: Broker) -> bool:
    try:
        socket.create_connection((broker.host, broker.port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    """The broker under test: required in CI (the variable is set), skipped locally if absent."""
    url = os.environ.get(MQTT_ENV)
    if not listening(Broker.from_url(url or LOCAL_BROKER)):
        if url:
            pytest.fail(f"{MQTT_ENV}={url}, but no MQTT broker listens there")
        pytest.skip(f"no MQTT broker on {LOCAL_BROKER}; start Mosquitto or set {MQTT_ENV}")
    return url or LOCAL_BROKER


@pytest.fixture
def venue(westlake: Scenario) -> Scenario:
    config = westlake.config.model_copy(update={"id": f"westlake-{uuid.uuid4().hex[:10]}"})
    return dataclasses.replace(westlake, config=config)


@dataclasses.dataclass
class Sensors:
    """Publishes as the venue's sensors do; clears the retained messages it left behind."""

    broker: Broker
    venue_id: str
    retained: set[str] = dataclasses.field(default_factory=set)

    def topic(self, sensor_id: str, channel: Channel) -> str:
        return sensor_topic(self.venue_id, sensor_id, channel)

    def device(self, will_topic: str | None = None) -> paho.Client:
        """A connected client, its network loop running, with a last will of ``offline``."""
        device = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:12]}"
        )
        if self.broker.username:
            device.username_pw_set(self.broker.username, self.broker.password)
        if will_topic is not None:
            device.will_set(will_topic, "offline", qos=1, retain=True)
            self.retained.add(will_topic)
        device.connect(self.broker.host, self.broker.port)
        device.loop_start()
        return device

    def publish(self, *messages: tuple[str, Channel, Any], retain: bool = False) -> None:
        """Send messages in order over one connection; a str or bytes payload is sent as is."""
        device = self.device()
        try:
            for sensor_id, channel, payload in messages:
                topic = self.topic(sensor_id, channel)
                raw = payload if isinstance(payload, str | bytes) else json.dumps(payload)
                device.publish(topic, raw, qos=1, retain=retain).wait_for_publish(timeout=5)
                if retain:
                    self.retained.add(topic)
        finally:
            device.disconnect()
            device.loop_stop()

    def clear_retained(self) -> None:
        device = self.device()
        for topic in self.retained:
            device.publish(topic, b"", qos=1, retain=True).wait_for_publish(timeout=5)
        device.disconnect()
        device.loop_stop()


@pytest.fixture
def sensors(mqtt_url: str, venue: Scenario) -> Iterator[Sensors]:
    sensors = Sensors(Broker.from_url(mqtt_url), venue.id)
    yield sensors
    sensors.clear_retained()


def serve(database_url: str, mqtt_url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=database_url, mqtt_url=mqtt_url)))


def subscribed(client: TestClient) -> bool:
    return bool(client.app.state.mqtt.subscribed)  # type: ignore[attr-defined]


@pytest.fixture
def stored_venue(db_engine: Engine, venue: Scenario) -> Scenario:
    with transaction(make_sessionmaker(db_engine)) as session:
        store_scenario(session, scenario=venue, now=datetime.now(UTC))
    return venue


@pytest.fixture
def client(stored_venue: Scenario, database_url: str, mqtt_url: str) -> Iterator[TestClient]:
    with serve(database_url, mqtt_url) as client:
        eventually(lambda: subscribed(client), "the subscriber to subscribe")
        yield client


def eventually(probe: Callable[[], T], what: str, timeout_s: float = 10.0) -> T:
    """Poll until ``probe`` returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not (value := probe()):
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout_s:.0f} s for {what}")
        time.sleep(0.05)
    return value


def observations(engine: Engine, sensor_id: str) -> list[ObservationRow]:
    query = select(ObservationRow).where(ObservationRow.sensor_id == sensor_id)
    with make_sessionmaker(engine)() as session:
        return list(session.scalars(query.order_by(ObservationRow.id)))


def stored_ids(engine: Engine, sensor_id: str) -> list[str]:
    return [row.event_id for row in observations(engine, sensor_id)]


def dead_letters(engine: Engine, sender: str) -> list[RejectRow]:
    query = select(RejectRow).where(RejectRow.sender == sender).order_by(RejectRow.id)
    with make_sessionmaker(engine)() as session:
        return list(session.scalars(query))


def count(event_id: str, n: int = 100, sensor: str = CAMERA, ago_s: float = 30) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(seconds=ago_s)
    return {"kind": "count", "event_id": event_id, "sensor_id": sensor, "at": at.isoformat(),
            "count": n, "coverage": 0.8}  # fmt: skip


def test_a_batch_is_stored_once_however_often_it_is_sent(
    client: TestClient, sensors: Sensors, db_engine: Engine
) -> None:
    batch = [count(f"c-{i}", n=100 + i, ago_s=30 - i) for i in range(3)]
    sensors.publish((CAMERA, Channel.OBSERVATIONS, batch))
    rows = eventually(lambda: observations(db_engine, CAMERA), "the batch to be stored")
    assert sorted((r.event_id, r.count, r.kind) for r in rows) == [
        ("c-0", 100, "count"), ("c-1", 101, "count"), ("c-2", 102, "count")
    ]  # fmt: skip
    # The same batch again, then one new observation (a single object) behind it on the same
    # connection: once that one is in, the repeat has been handled.
    sensors.publish(
        (CAMERA, Channel.OBSERVATIONS, batch), (CAMERA, Channel.OBSERVATIONS, count("c-3"))
    )
    eventually(lambda: "c-3" in stored_ids(db_engine, CAMERA), "the observation after the repeat")
    assert sorted(stored_ids(db_engine, CAMERA)) == ["c-0", "c-1", "c-2", "c-3"]
    assert dead_letters(db_engine, f"mqtt:{CAMERA}") == []


def test_a_sensor_reports_for_itself_only(
    client: TestClient, sensors: Sensors, db_engine: Engine
) -> None:
    mixed = [count("own-1"), count("theirs-1", sensor=OTHER_CAMERA)]
    sensors.publish((CAMERA, Channel.OBSERVATIONS, mixed))
    eventually(lambda: stored_ids(db_engine, CAMERA), "the sensor's own observation")
    assert stored_ids(db_engine, CAMERA) == ["own-1"]
    assert stored_ids(db_engine, OTHER_CAMERA) == []
    [letter] = dead_letters(db_engine, f"mqtt:{CAMERA}")
    assert (letter.source, letter.batch_index, letter.event_id) == ("mqtt", 1, "theirs-1")
    assert letter.sensor_id == OTHER_CAMERA
    assert letter.reason == f"sensor_id: this sender reports for sensor {CAMERA!r} only"


def test_unreadable_messages_become_dead_letters_and_the_next_one_is_taken(
    client: TestClient, sensors: Sensors, db_engine: Engine
) -> None:
    sensors.publish(
        (CAMERA, Channel.OBSERVATIONS, '{"kind": "count", "event_id": '),
        (CAMERA, Channel.OBSERVATIONS, "42"),
        (CAMERA, Channel.OBSERVATIONS, b"\xff\xfe\x00garbage"),
        (CAMERA, Channel.OBSERVATIONS, count("after")),
    )
    eventually(lambda: stored_ids(db_engine, CAMERA), "the message after the bad ones")
    assert stored_ids(db_engine, CAMERA) == ["after"]
    letters = dead_letters(db_engine, f"mqtt:{CAMERA}")
    assert [letter.reason.split(" (")[0] for letter in letters] == [
        "payload: not JSON",
        "payload: a JSON object or array of observations, not int",
        "payload: not JSON",
    ]
    assert {(letter.source, letter.sensor_id) for letter in letters} == {("mqtt", CAMERA)}
    assert letters[0].payload == {"raw": '{"kind": "count", "event_id": '}


def test_status_retained_plain_or_json(
    client: TestClient, sensors: Sensors, db_engine: Engine
) -> None:
    sensors.publish((GATE, Channel.STATUS, "offline"), retain=True)
    [offline] = eventually(lambda: observations(db_engine, GATE), "the retained offline")
    assert (offline.kind, offline.online) == ("status", False)
    assert offline.event_id.startswith("mqtt-")
    before = datetime.now(UTC)
    sensors.publish(
        (GATE, Channel.STATUS, {"online": True, "event_id": "boot-7"}),
        (GATE, Channel.STATUS, "Online"),  # as some firmwares write it
        (GATE, Channel.STATUS, "maybe"),
        (GATE, Channel.STATUS, {"online": True, "event_id": "x", "sensor_id": "gate-yue-temple"}),
        (GATE, Channel.STATUS, {"online": "sometimes", "event_id": "y"}),
        (GATE, Channel.STATUS, {"online": False, "event_id": "boot-7-off"}),
    )
    eventually(lambda: "boot-7-off" in stored_ids(db_engine, GATE), "the last status")
    rows = observations(db_engine, GATE)
    assert [r.online for r in rows] == [False, True, True, False]
    # No time of its own: it happened when it arrived.
    assert rows[1].event_id == "boot-7" and rows[1].at_s >= before.timestamp() - 1
    reasons = [letter.reason for letter in dead_letters(db_engine, f"mqtt:{GATE}")]
    assert reasons[0] == "payload: not online, offline or a JSON object"
    assert reasons[1] == "sensor_id: this sender reports for sensor 'gate-broken-bridge-north' only"
    assert reasons[2] == "online: Expected `bool`, got `str`"
    assert len(reasons) == 3


def test_a_sensor_that_drops_off_is_marked_offline_by_its_last_will(
    client: TestClient, sensors: Sensors, db_engine: Engine
) -> None:
    topic = sensors.topic(GATE, Channel.STATUS)
    device = sensors.device(will_topic=topic)
    try:
        device.publish(topic, "online", qos=1, retain=True).wait_for_publish(timeout=5)
        eventually(lambda: observations(db_engine, GATE), "the gate's online")
        # Drop the connection without DISCONNECT, as a gate losing power or its link would.
        device.loop_stop()
        device.socket().close()  # type: ignore[union-attr]
    finally:
        device.loop_stop()
    eventually(
        lambda: len(observations(db_engine, GATE)) == 2, "the broker to publish the last will"
    )
    rows = observations(db_engine, GATE)
    assert [(r.kind, r.online) for r in rows] == [("status", True), ("status", False)]


def test_messages_sent_while_lakeguard_is_away_arrive_when_it_is_back(
    stored_venue: Scenario, database_url: str, mqtt_url: str, sensors: Sensors, db_engine: Engine
) -> None:
    with serve(database_url, mqtt_url) as client:
        eventually(lambda: subscribed(client), "the first subscription")
    sensors.publish((CAMERA, Channel.OBSERVATIONS, count("while-away")))
    with serve(database_url, mqtt_url):
        eventually(lambda: stored_ids(db_engine, CAMERA), "the message queued by the broker")
    assert stored_ids(db_engine, CAMERA) == ["while-away"]


class OwnBroker:
    """A Mosquitto of one test's own on a free port, for the test to stop and start again."""

    def __init__(self, folder: Path, users: dict[str, str], acl: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"mqtt://127.0.0.1:{self.port}"
        # As root it would drop to the mosquitto user, who cannot read the test's folder.
        lines = [f"listener {self.port} 127.0.0.1", "user root"]
        if users:
            passwords, rules = folder / "passwords", folder / "acl"
            for n, (user, password) in enumerate(users.items()):
                create = ["-c"] if n == 0 else []
                run = ["mosquitto_passwd", *create, "-b", str(passwords), user, password]
                subprocess.run(run, check=True, capture_output=True)
            rules.write_text(acl)
            lines += ["allow_anonymous false", f"password_file {passwords}", f"acl_file {rules}"]
        else:
            lines += ["allow_anonymous true"]
        self.config = folder / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config)], stderr=subprocess.DEVNULL
        )
        eventually(lambda: listening(Broker("127.0.0.1", self.port)), "mosquitto to listen")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Callable[..., OwnBroker]]:
    """Makes brokers of the test's own: ``own_broker(users={name: password}, acl=text)``."""
    if shutil.which("mosquitto") is None or shutil.which("mosquitto_passwd") is None:
        if os.environ.get(MQTT_ENV):
            pytest.fail("Mosquitto (mosquitto, mosquitto_passwd) is not installed")
        pytest.skip("Mosquitto (mosquitto, mosquitto_passwd) is not installed")
    made: list[OwnBroker] = []

    def make(users: dict[str, str] | None = None, acl: str = "") -> OwnBroker:
        folder = tmp_path / f"broker-{len(made)}"
        folder.mkdir()
        made.append(OwnBroker(folder, users or {}, acl))
        return made[-1]

    yield make
    for broker in made:
        broker.stop()


def test_the_subscriber_waits_for_the_broker_and_reconnects(
    own_broker: Callable[..., OwnBroker],
    stored_venue: Scenario,
    database_url: str,
    db_engine: Engine,
) -> None:
    broker = own_broker()
    sensors = Sensors(Broker.from_url(broker.url), stored_venue.id)
    with serve(database_url, broker.url) as client:
        # No broker yet: the API serves all the same.
        assert client.get("/api/v1/health").status_code == 200
        assert not subscribed(client)
        broker.start()
        eventually(lambda: subscribed(client), "the subscriber to connect")
        sensors.publish((CAMERA, Channel.OBSERVATIONS, count("first")))
        eventually(lambda: stored_ids(db_engine, CAMERA), "the first observation")

        broker.stop()
        eventually(lambda: not subscribed(client), "the subscriber to notice")
        broker.start()
        eventually(lambda: subscribed(client), "the subscriber to reconnect")
        sensors.publish((CAMERA, Channel.OBSERVATIONS, count("second")))
        eventually(lambda: len(stored_ids(db_engine, CAMERA)) == 2, "the second observation")
    assert stored_ids(db_engine, CAMERA) == ["first", "second"]


# The README's recipe: one user per sensor, kept to its own topics; LakeGuard reads them all.
ACL = """user lakeguard
topic read lakeguard/+/sensors/#

pattern readwrite lakeguard/+/sensors/%u/#
"""
USERS = {"lakeguard": "lg-secret", CAMERA: "cam-secret", OTHER_CAMERA: "other-secret"}


def test_with_the_readme_acl_a_sensor_cannot_speak_for_another(
    own_broker: Callable[..., OwnBroker],
    stored_venue: Scenario,
    database_url: str,
    db_engine: Engine,
) -> None:
    broker = own_broker(users=USERS, acl=ACL)
    broker.start()
    camera = Sensors(Broker("127.0.0.1", broker.port, CAMERA, USERS[CAMERA]), stored_venue.id)
    with serve(database_url, f"mqtt://lakeguard:lg-secret@127.0.0.1:{broker.port}") as client:
        eventually(lambda: subscribed(client), "LakeGuard to log in and subscribe")
        camera.publish(
            (OTHER_CAMERA, Channel.OBSERVATIONS, count("forged", sensor=OTHER_CAMERA)),
            (CAMERA, Channel.OBSERVATIONS, count("own")),
        )
        eventually(lambda: stored_ids(db_engine, CAMERA), "the camera's own observation")
    assert stored_ids(db_engine, OTHER_CAMERA) == []  # the broker dropped it
    assert dead_letters(db_engine, f"mqtt:{OTHER_CAMERA}") == []


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("127.0.0.1:1883", "the scheme must be mqtt://"),
        ("http://127.0.0.1:1883", "the scheme must be mqtt://, not http"),
        ("mqtts://broker:8883", "the scheme must be mqtt://, not mqtts"),
        ("mqtt://", "no host"),
        ("mqtt://broker:port", "Port could not be cast to integer value"),
        ("mqtt://broker:70000", "Port out of range"),
        ("mqtt://broker:0", "port 0"),
        ("mqtt://broker:1883/lakeguard", "no path, query or fragment"),
        ("mqtt://broker:1883?qos=1", "no path, query or fragment"),
    ],
)
def test_a_bad_broker_url_is_refused_with_the_reason(url: str, why: str) -> None:
    with pytest.raises(MqttUrlError, match=why) as refused:
        Broker.from_url(url)
    assert "expected mqtt://[user:password@]host[:port]" in str(refused.value)


def test_a_broker_url_is_read_and_its_password_never_shown() -> None:
    assert Broker.from_url("mqtt://127.0.0.1") == Broker("127.0.0.1", 1883)
    broker = Broker.from_url("mqtt://lake%40guard:s3cr%3At@broker.local:1884/")
    assert broker == Broker("broker.local", 1884, "lake@guard", "s3cr:t")
    assert "s3cr" not in repr(broker)
    with pytest.raises(MqttUrlError) as refused:
        Broker.from_url("mqtt://lakeguard:s3cret@broker:99999")
    assert "s3cret" not in str(refused.value) and "lakeguard:***@broker" in str(refused.value)


def test_the_api_refuses_to_start_with_a_bad_broker_url(
    db_engine: Engine, database_url: str
) -> None:
    settings = Settings(database_url=database_url, mqtt_url="tcp://127.0.0.1:1883")
    refusal = re.escape("LAKEGUARD_MQTT_URL='tcp://127.0.0.1:1883' is refused")
    with pytest.raises(MqttUrlError, match=refusal), TestClient(create_app(settings)):
        pass


def test_what_a_message_holds() -> None:
    now = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    assert observations_of(b'{"kind": "count"}') == [{"kind": "count"}]
    assert observations_of(b"[1, 2]") == [1, 2]  # the ingest path names what is wrong with each
    with pytest.raises(Unreadable, match=f"at most {MAX_BATCH} observations; this one has"):
        observations_of(json.dumps([{}] * (MAX_BATCH + 1)).encode())
    with pytest.raises(Unreadable, match="not JSON"):
        observations_of(b"[" * 100_000)  # too deep to parse
    assert status_of(GATE, b"", now) == []  # a retained status being cleared
    [will] = status_of(GATE, b"offline\n", now)
    assert will == {"kind": "status", "sensor_id": GATE, "online": False, "at": now.isoformat(),
                    "event_id": will["event_id"]}  # fmt: skip
    # The same payload at the same time gets the same id; another time, another id.
    assert status_of(GATE, b"offline\n", now)[0]["event_id"] == will["event_id"]
    assert (
        status_of(GATE, b"offline", now + timedelta(seconds=1))[0]["event_id"] != will["event_id"]
    )
    [own] = status_of(
        GATE, b'{"online": true, "event_id": "e-1", "at": "2026-05-01T07:59:00Z"}', now
    )
    assert (own["event_id"], own["at"], own["online"]) == ("e-1", "2026-05-01T07:59:00Z", True)
