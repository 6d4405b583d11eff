"""Sensors over MQTT: a subscriber that feeds their messages into the one ingest path.

Topics, per venue (lowercase, general to specific):

- ``lakeguard/<venue>/sensors/<sensor_id>/observations``: one observation as a JSON object,
  or a batch as a JSON array;
- ``lakeguard/<venue>/sensors/<sensor_id>/status``: retained, ``online`` / ``offline`` (what a
  last will carries) or ``{"online": bool, "event_id": ..., "at": ...}``.

The topic names the sensor and a sensor reports for itself only. The broker's ACL keeps each
sensor to its own topics; LakeGuard trusts the topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from lakeguard.clock import Clock, WallClock
from lakeguard.ingest.schema import MAX_BATCH, BatchResult, Reject
from lakeguard.ingest.service import BatchTooLarge, Ingestor

if TYPE_CHECKING:
    from lakeguard.api.state import AppState

log = logging.getLogger(__name__)

TOPIC_ROOT = "lakeguard"
DEFAULT_PORT = 1883
# While LakeGuard is away (a restart, a lost link) the broker keeps its subscriptions and
# queues the QoS 1 messages sent meanwhile, so counting lines' crossings are not lost.
SESSION_EXPIRY_S = 3600
FIRST_RETRY_S, LONGEST_RETRY_S = 1.0, 30.0
_PLAIN_STATUS = {"online": True, "offline": False}


class Channel(StrEnum):
    OBSERVATIONS = "observations"
    STATUS = "status"


def sensor_topic(venue_id: str, sensor_id: str, channel: Channel) -> str:
    """A sensor's topic; ``sensor_id`` may be the wildcard ``+``."""
    return f"{TOPIC_ROOT}/{venue_id}/sensors/{sensor_id}/{channel.value}"


class MqttUrlError(ValueError):
    pass


@dataclass(frozen=True)
class Broker:
    """Where the broker is and how LakeGuard logs in to it."""

    host: str
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> Broker:
        """Read ``mqtt://[user[:password]@]host[:port]``; raises MqttUrlError with the reason."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise _refusal(url, str(exc)) from None
        if parts.scheme != "mqtt":
            raise _refusal(url, f"the scheme must be mqtt://, not {parts.scheme or 'none'}")
        if not parts.hostname:
            raise _refusal(url, "no host")
        if port == 0:
            raise _refusal(url, "port 0")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise _refusal(url, "a broker URL has no path, query or fragment")
        return cls(
            host=parts.hostname,
            port=port or DEFAULT_PORT,
            username=unquote(parts.username) if parts.username is not None else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )


def _refusal(url: str, why: str) -> MqttUrlError:
    password = urlsplit(url).password if "@" in url else None
    shown = url.replace(f":{password}@", ":***@") if password else url
    return MqttUrlError(
        f"LAKEGUARD_MQTT_URL={shown!r} is refused: {why}; "
        "expected mqtt://[user:password@]host[:port], e.g. mqtt://127.0.0.1:1883"
    )


class Unreadable(ValueError):
    """A message that holds no observations to validate; its text is the dead letter's reason."""


def observations_of(payload: bytes) -> list[Any]:
    """The items of an observations message: an object is one, an array a batch."""
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise Unreadable(f"payload: not JSON ({exc})") from None
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        if len(value) > MAX_BATCH:
            raise Unreadable(f"payload: {BatchTooLarge(len(value))}")
        return value
    raise Unreadable(f"payload: a JSON object or array of observations, not {type(value).__name__}")


def status_of(sensor_id: str, payload: bytes, now: datetime) -> list[dict[str, Any]]:
    """A status message as a ``status`` observation (none for an empty, cleared topic)."""
    text = payload.decode("utf-8", errors="replace").strip()
    if not text:
        return []  # an empty retained message clears the topic; it says nothing of the sensor
    # Case-insensitive: some firmwares (Tasmota) send Online / Offline.
    value: Any = text
    if text.lower() not in _PLAIN_STATUS:
        try:
            value = json.loads(payload)
        except (ValueError, RecursionError):
            raise Unreadable("payload: not online, offline or a JSON object") from None
    # A plain status carries no time or id: it happened when it arrived. A retained one is
    # delivered again on every (re)subscription and so stored again under a new event id; that
    # is harmless, a status sets a sensor's state (the engine keeps the first offline time).
    item: dict[str, Any] = {
        "sensor_id": sensor_id,
        "event_id": f"mqtt-{now:%Y%m%dT%H%M%S%fZ}-{hashlib.sha256(payload).hexdigest()[:12]}",
        "at": now.isoformat(),  # JSON-ready: a refused item is kept as JSON in its dead letter
    }
    if isinstance(value, str) and value.lower() in _PLAIN_STATUS:
        return [{**item, "kind": "status", "online": _PLAIN_STATUS[value.lower()]}]
    if not isinstance(value, dict):
        raise Unreadable(f"payload: online, offline or a JSON object, not {type(value).__name__}")
    # The sensor's own fields win, so a payload naming another sensor is refused by the
    # ingest path as from the wrong sender, and a bad field is refused with its reason.
    return [{**item, **value, "kind": "status"}]


def _is_failure(code: int | ReasonCode) -> bool:
    return (code if isinstance(code, int) else code.value) >= 0x80


class SensorSubscriber:
    """Feeds one venue's sensor messages into the ingest path; reconnects when the broker goes.

    Messages are handled one at a time, in order, each ingest cycle in a worker thread.
    """

    def __init__(
        self,
        ingestor: Ingestor,
        broker: Broker,
        *,
        on_ingested: Callable[[], None] = lambda: None,
        clock: Clock | None = None,
    ) -> None:
        self.ingestor = ingestor
        self.clock: Clock = clock or WallClock()
        self.broker = broker
        self.on_ingested = on_ingested
        self.venue_id = ingestor.scenario.id
        self.subscribed = False

    async def run(self) -> None:
        """Connect, subscribe and feed messages until cancelled."""
        where = f"{self.broker.host}:{self.broker.port}"
        retry_s = FIRST_RETRY_S
        while True:
            try:
                async with self._client() as client:
                    granted = await client.subscribe(
                        [(sensor_topic(self.venue_id, "+", channel), 1) for channel in Channel]
                    )
                    if any(_is_failure(code) for code in granted):
                        refused = ", ".join(str(code) for code in granted)
                        raise aiomqtt.MqttError(f"the broker refused the subscription ({refused})")
                    self.subscribed = True
                    retry_s = FIRST_RETRY_S
                    log.info("MQTT: subscribed to venue %s's sensors on %s", self.venue_id, where)
                    async for message in client.messages:
                        await self._feed_in_thread(message)
            except aiomqtt.MqttError as exc:
                log.warning("MQTT broker %s: %s; retrying in %.0f s", where, exc, retry_s)
            except Exception:
                log.exception("MQTT subscriber failed; retrying in %.0f s", retry_s)
            finally:
                self.subscribed = False
            await asyncio.sleep(retry_s)
            retry_s = min(2 * retry_s, LONGEST_RETRY_S)

    def _client(self) -> aiomqtt.Client:
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho
        connect.SessionExpiryInterval = SESSION_EXPIRY_S
        return aiomqtt.Client(
            self.broker.host,
            self.broker.port,
            username=self.broker.username,
            password=self.broker.password,
            identifier=f"lakeguard-{self.venue_id}",
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False,
            properties=connect,
        )

    async def _feed_in_thread(self, message: aiomqtt.Message) -> None:
        payload = message.payload
        raw = payload if isinstance(payload, bytes) else str(payload or "").encode()
        work = asyncio.ensure_future(
            asyncio.to_thread(self.feed, message.topic.value, raw, self.clock.now())
        )
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            # The broker has the message's acknowledgement already: finish it, then stop.
            await work
            raise
        self.on_ingested()

    def feed(self, topic: str, payload: bytes, now: datetime) -> BatchResult | None:
        """Take one message as the ingest path does a batch; None if it could not be taken."""
        address = self._address(topic)
        if address is None:
            log.warning("MQTT: ignoring a message on unexpected topic %r", topic)
            return None
        sensor_id, channel = address
        sender = f"mqtt:{sensor_id}"[:128]
        try:
            if channel is Channel.OBSERVATIONS:
                items = observations_of(payload)
            else:
                items = status_of(sensor_id, payload, now)
        except Unreadable as exc:
            log.warning("MQTT: dead letter from %s: %s", sender, exc)
            try:
                self._dead_letter(sensor_id, sender, payload, str(exc), now)
            except Exception:
                log.exception("MQTT: could not store the dead letter from %s", sender)
                return None
            return BatchResult(
                accepted=0, duplicates=0, rejected=[Reject(index=0, event_id=None, reason=str(exc))]
            )
        if not items:
            return BatchResult(accepted=0, duplicates=0, rejected=[])
        try:
            result = self.ingestor.ingest(
                items, sender=sender, source="mqtt", now=now, only_sensor=sensor_id
            )
        except Exception:
            log.exception("MQTT: a message from %s could not be ingested; dropped", sender)
            return None
        if result.rejected:
            first = result.rejected[0]
            log.warning(
                "MQTT: %d of %d from %s refused (first: #%d %s)",
                len(result.rejected),
                len(items),
                sender,
                first.index,
                first.reason,
            )
        return result

    def _address(self, topic: str) -> tuple[str, Channel] | None:
        """The sensor and channel a topic names, if it is one of this venue's sensor topics."""
        levels = topic.split("/")
        if len(levels) != 5 or levels[:3] != [TOPIC_ROOT, self.venue_id, "sensors"]:
            return None
        try:
            return levels[3], Channel(levels[4])
        except ValueError:
            return None

    def _dead_letter(
        self, sensor_id: str, sender: str, payload: bytes, reason: str, now: datetime
    ) -> None:
        self.ingestor.record_unreadable(
            source="mqtt", sender=sender, sensor_id=sensor_id, raw=payload, reason=reason, now=now
        )


@contextlib.asynccontextmanager
async def running_subscriber(state: AppState) -> AsyncIterator[SensorSubscriber | None]:
    """Run the sensor subscriber while the block runs, if a broker is set and a venue loaded."""
    if not state.settings.mqtt_url:
        yield None
        return
    broker = Broker.from_url(state.settings.mqtt_url)  # a bad URL stops the start-up
    if state.ingest is None:
        log.warning("LAKEGUARD_MQTT_URL is set but no venue is loaded: not subscribing")
        yield None
        return
    subscriber = SensorSubscriber(
        state.ingest, broker, on_ingested=state.outbox_written.set, clock=state.clock
    )
    task = asyncio.create_task(subscriber.run(), name="mqtt-subscriber")
    try:
        yield subscriber
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
