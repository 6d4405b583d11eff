"""The one ingest path, for HTTP batches and MQTT messages alike.

validate (shape, then against the venue and the sender) → store new observations once
(``ON CONFLICT DO NOTHING`` on sensor and event id, so a re-sent observation is a duplicate,
not an error) → hand them to the observation sink (the crowd runtime), all in one cycle of the
sink's. Every refused item is kept as a dead letter with its index and reason; the good items
of the same batch are kept. Nothing is acknowledged before the cycle's transaction commits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from lakeguard.errors import TooLarge
from lakeguard.ingest.models import RejectRow
from lakeguard.ingest.rows import Key, Row, row_of, store_new
from lakeguard.ingest.schema import (
    ACCEPTS,
    MAX_BATCH,
    BatchResult,
    Observation,
    Reject,
    decode_batch,
    decode_observation,
    event_id_of,
    parse_observation,
    parse_observations,
    reason_of,
    split_batch,
)
from lakeguard.ingest.sink import ObservationSink
from lakeguard.venue.loader import Scenario

MAX_FUTURE_S = 60.0  # sensor clocks may run a little ahead
MAX_AGE_S = 86_400.0  # older than a day says nothing about now
PAYLOAD_LIMIT = 2_000  # characters of a refused item kept in its dead letter


class BatchTooLarge(TooLarge):
    title = "Batch too large"

    def __init__(self, size: int) -> None:
        super().__init__(f"a batch holds at most {MAX_BATCH} observations; this one has {size}")


def check_batch_size(items: Sequence[Any]) -> None:
    if len(items) > MAX_BATCH:
        raise BatchTooLarge(len(items))


def reject_json(row: RejectRow) -> dict[str, Any]:
    """A dead letter as the API and the command line show it."""
    return {
        "id": row.id,
        "received_at": row.received_at.isoformat(),
        "source": row.source,
        "sender": row.sender,
        "index": row.batch_index,
        "sensor_id": row.sensor_id,
        "event_id": row.event_id,
        "reason": row.reason,
        "payload": row.payload,
    }


class Ingestor:
    """Validates and stores observations for one venue, then hands the new ones to its sink."""

    def __init__(self, scenario: Scenario, sink: ObservationSink) -> None:
        self.scenario = scenario
        self.sink = sink
        self._sensors = {s.id: s for s in scenario.sensors}

    def ingest(
        self,
        items: Sequence[Any],
        *,
        sender: str,
        source: str,
        now: datetime,
        only_sensor: str | None = None,
    ) -> BatchResult:
        """Take a batch of decoded JSON values; ``only_sensor`` limits it to one sensor (a
        sensor's own token)."""
        check_batch_size(items)
        rejects: list[Reject] = []
        parsed = self._parse(items, rejects)
        return self._take(
            parsed, rejects, items.__getitem__, sender, source, now, only_sensor=only_sensor
        )

    def ingest_json(
        self,
        body: bytes,
        *,
        sender: str,
        source: str,
        now: datetime,
        only_sensor: str | None = None,
    ) -> BatchResult:
        """Take a batch as its JSON text (an HTTP body); raises NotABatch if it is no array."""
        rejects: list[Reject] = []
        parsed, raws = self._decode(body, rejects)

        def item(index: int) -> Any:
            return msgspec.json.decode(raws[index])

        return self._take(parsed, rejects, item, sender, source, now, only_sensor=only_sensor)

    def _take(
        self,
        parsed: Iterable[tuple[int, Observation]],
        rejects: list[Reject],
        item: Callable[[int], Any],
        sender: str,
        source: str,
        now: datetime,
        *,
        only_sensor: str | None,
    ) -> BatchResult:
        """Check the parsed observations against the venue and the sender, then store the new
        ones and hand them on in one cycle of the sink's.

        The checks run before the cycle starts, so other cycles wait only for the writing.
        """
        fresh: list[tuple[float, Observation]] = []  # (seconds since the epoch, observation)
        rows: list[Row] = []
        seen: set[tuple[str, str]] = set()
        in_batch_duplicates = 0
        now_s = now.timestamp()
        for index, obs in parsed:
            at_s = obs.at.timestamp()
            problem = self._refusal(obs, at_s, only_sensor, now_s)
            if problem is not None:
                rejects.append(Reject(index=index, event_id=obs.event_id, reason=problem))
                continue
            key = (obs.sensor_id, obs.event_id)
            if key in seen:
                in_batch_duplicates += 1
                continue
            seen.add(key)
            fresh.append((at_s, obs))
            rows.append(row_of(obs, self._sensors[obs.sensor_id].area, at_s, now_s))
        with self.sink.cycle() as session:
            stored = self._store(session, rows)
            new = fresh
            if len(stored) != len(fresh):
                new = [(t, o) for t, o in fresh if (o.sensor_id, o.event_id) in stored]
            new.sort(key=itemgetter(0))
            accepted = [obs for _, obs in new]
            if accepted:
                self.sink.take(session, accepted)
            if rejects:
                self._dead_letters(session, item, rejects, sender=sender, source=source, now=now)
        return BatchResult(
            accepted=len(accepted),
            duplicates=in_batch_duplicates + len(fresh) - len(accepted),
            rejected=sorted(rejects, key=lambda r: r.index),
        )

    def record_unreadable(
        self,
        *,
        source: str,
        sender: str,
        sensor_id: str | None,
        raw: bytes,
        reason: str,
        now: datetime,
    ) -> None:
        """Keep a message that could not even be read as observations, in a cycle of its own."""
        with self.sink.cycle() as session:
            record_unreadable(
                session,
                source=source,
                sender=sender,
                sensor_id=sensor_id,
                raw=raw,
                reason=reason,
                now=now,
            )

    def _decode(
        self, body: bytes, rejects: list[Reject]
    ) -> tuple[Iterable[tuple[int, Observation]], list[msgspec.Raw]]:
        """The observations of a JSON batch with their indexes, and its raw items if some
        were bad (to keep them as dead letters)."""
        observations = decode_batch(body)
        if observations is not None:
            check_batch_size(observations)
            return enumerate(observations), []
        raws = split_batch(body)  # some item is bad: each is judged on its own
        check_batch_size(raws)
        return self._parse_raw(raws, rejects), raws

    def _store(self, session: Session, rows: list[Row]) -> set[Key]:
        return store_new(session.connection(), rows)

    def _parse(self, items: Sequence[Any], rejects: list[Reject]) -> list[tuple[int, Observation]]:
        try:
            return list(enumerate(parse_observations(items)))
        except msgspec.ValidationError:
            pass  # some are bad: validate one by one to keep the good ones
        parsed: list[tuple[int, Observation]] = []
        for index, item in enumerate(items):
            try:
                parsed.append((index, parse_observation(item)))
            except msgspec.ValidationError as exc:
                rejects.append(
                    Reject(index=index, event_id=event_id_of(item), reason=reason_of(exc))
                )
        return parsed

    def _parse_raw(
        self, raws: list[msgspec.Raw], rejects: list[Reject]
    ) -> list[tuple[int, Observation]]:
        parsed: list[tuple[int, Observation]] = []
        for index, raw in enumerate(raws):
            try:
                parsed.append((index, decode_observation(raw)))
            except msgspec.ValidationError as exc:
                event_id = event_id_of(msgspec.json.decode(raw))
                rejects.append(Reject(index=index, event_id=event_id, reason=reason_of(exc)))
        return parsed

    def _refusal(
        self, obs: Observation, at_s: float, only_sensor: str | None, now_s: float
    ) -> str | None:
        sensor = self._sensors.get(obs.sensor_id)
        if sensor is None:
            return f"sensor_id: no sensor {obs.sensor_id!r} in venue {self.scenario.id!r}"
        if only_sensor is not None and obs.sensor_id != only_sensor:
            return f"sensor_id: this sender reports for sensor {only_sensor!r} only"
        if obs.kind not in ACCEPTS[sensor.kind]:
            allowed = ", ".join(sorted(ACCEPTS[sensor.kind]))
            return f"kind: a {sensor.kind.value} sends {allowed}, not {obs.kind}"
        if at_s > now_s + MAX_FUTURE_S:
            return f"at: {at_s - now_s:.0f} s in the future (sensor clock ahead?)"
        if at_s < now_s - MAX_AGE_S:
            return f"at: older than {MAX_AGE_S / 3600:.0f} h"
        return None

    def _dead_letters(
        self,
        session: Session,
        item_at: Callable[[int], Any],
        rejects: list[Reject],
        *,
        sender: str,
        source: str,
        now: datetime,
    ) -> None:
        for reject in rejects:
            item = item_at(reject.index)
            text = json.dumps(item, default=str, ensure_ascii=False)
            payload = item if len(text) <= PAYLOAD_LIMIT else {"truncated": text[:PAYLOAD_LIMIT]}
            sensor = item.get("sensor_id") if isinstance(item, dict) else None
            session.add(
                RejectRow(
                    received_at=now,
                    source=source,
                    sender=sender,
                    batch_index=reject.index,
                    sensor_id=sensor[:64] if isinstance(sensor, str) else None,
                    event_id=reject.event_id,
                    reason=reject.reason,
                    payload=payload,
                )
            )


def record_unreadable(
    session: Session,
    *,
    source: str,
    sender: str,
    sensor_id: str | None,
    raw: bytes,
    reason: str,
    now: datetime,
) -> None:
    """Keep a message that could not even be read as observations (not JSON, say)."""
    text = raw.decode("utf-8", errors="replace")
    session.add(
        RejectRow(
            received_at=now,
            source=source,
            sender=sender,
            batch_index=0,
            sensor_id=sensor_id[:64] if sensor_id else None,
            event_id=None,
            reason=reason,
            payload={"raw": text[:PAYLOAD_LIMIT]},
        )
    )


def list_rejects(
    session: Session, *, limit: int = 100, sensor_id: str | None = None
) -> list[RejectRow]:
    """The newest dead letters first."""
    query = select(RejectRow).order_by(RejectRow.id.desc()).limit(limit)
    if sensor_id is not None:
        query = query.where(RejectRow.sensor_id == sensor_id)
    return list(session.scalars(query))
