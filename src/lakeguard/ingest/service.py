"""The one ingest path, for HTTP batches and MQTT messages alike.

validate (shape, then against the venue and the sender) → store new observations once
(``ON CONFLICT DO NOTHING`` on sensor and event id, so a re-sent observation is a duplicate,
not an error) → hand them to the observation sink (the crowd runtime), all in one cycle of the
sink's. Every refused item is kept as a dead letter with its index and reason; the good items
of the same batch are kept. Nothing is acknowledged before the cycle's transaction commits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lakeguard.errors import TooLarge
from lakeguard.ingest.models import ObservationRow, RejectRow
from lakeguard.ingest.schema import (
    ACCEPTS,
    MAX_BATCH,
    OBSERVATION,
    OBSERVATIONS,
    AreaCount,
    BatchResult,
    Crossing,
    DensityEstimate,
    Observation,
    Reject,
    SensorStatus,
    event_id_of,
)
from lakeguard.ingest.sink import ObservationSink
from lakeguard.venue.loader import Scenario

MAX_FUTURE_S = 60.0  # sensor clocks may run a little ahead
MAX_AGE_S = 86_400.0  # older than a day says nothing about now
PAYLOAD_LIMIT = 2_000  # characters of a refused item kept in its dead letter


class ConcurrentIngest(RuntimeError):
    def __init__(self, foreign: int) -> None:
        super().__init__(
            f"{foreign} observations were stored by another process during this cycle; "
            "run one ingest process per venue"
        )


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


def _reason(error: ErrorDetails) -> str:
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


_COLUMNS = (
    "sensor_id",
    "event_id",
    "area_id",
    "kind",
    "at_s",
    "received_s",
    "window_s",
    "entered",
    "exited",
    "count",
    "coverage",
    "persons_per_m2",
    "online",
)


@cache
def _insert_sql(dialect: str) -> str:
    """The insert of one observation row, with named parameters as the database's driver
    takes them (sqlite3 and psycopg, the two databases LakeGuard runs on)."""
    marks = {"sqlite": ":{}", "postgresql": "%({})s"}
    if dialect not in marks:
        raise RuntimeError(f"observations are stored in SQLite or PostgreSQL, not {dialect}")
    values = ", ".join(marks[dialect].format(c) for c in _COLUMNS)
    return (
        f"INSERT INTO observations ({', '.join(_COLUMNS)}) VALUES ({values}) "
        "ON CONFLICT (sensor_id, event_id) DO NOTHING"
    )


def _row(obs: Observation, area_id: str, received_s: float) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sensor_id": obs.sensor_id,
        "event_id": obs.event_id,
        "area_id": area_id,
        "kind": obs.kind,
        "at_s": obs.at.timestamp(),
        "received_s": received_s,
        "window_s": None,
        "entered": None,
        "exited": None,
        "count": None,
        "coverage": None,
        "persons_per_m2": None,
        "online": None,
    }
    if isinstance(obs, Crossing):
        row.update(window_s=obs.window_s, entered=obs.entered, exited=obs.exited)
    elif isinstance(obs, AreaCount):
        row.update(count=obs.count, coverage=obs.coverage)
    elif isinstance(obs, DensityEstimate):
        row.update(persons_per_m2=obs.persons_per_m2, coverage=obs.coverage)
    elif isinstance(obs, SensorStatus):
        row.update(online=obs.online)
    return row


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
        """Take a batch; ``only_sensor`` limits it to one sensor (a sensor's own token).

        Items are checked before the cycle starts, so other cycles wait only for the writing.
        """
        check_batch_size(items)
        rejects: list[Reject] = []
        parsed = self._parse(items, rejects)
        fresh: list[tuple[int, Observation]] = []
        seen: set[tuple[str, str]] = set()
        in_batch_duplicates = 0
        earliest, latest = now - timedelta(seconds=MAX_AGE_S), now + timedelta(seconds=MAX_FUTURE_S)
        for index, obs in parsed:
            problem = self._refusal(obs, only_sensor, earliest, latest, now)
            if problem is not None:
                rejects.append(Reject(index=index, event_id=obs.event_id, reason=problem))
                continue
            key = (obs.sensor_id, obs.event_id)
            if key in seen:
                in_batch_duplicates += 1
                continue
            seen.add(key)
            fresh.append((index, obs))
        with self.sink.cycle() as session:
            stored = self._store(session, [obs for _, obs in fresh], now)
            accepted = [obs for _, obs in fresh if (obs.sensor_id, obs.event_id) in stored]
            if accepted:
                accepted.sort(key=lambda o: o.at)
                self.sink.take(session, accepted)
            if rejects:
                self._dead_letters(session, items, rejects, sender=sender, source=source, now=now)
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

    def _parse(self, items: Sequence[Any], rejects: list[Reject]) -> list[tuple[int, Observation]]:
        try:
            return list(enumerate(OBSERVATIONS.validate_python(items)))
        except ValidationError:
            pass  # some are bad: validate one by one to keep the good ones
        parsed: list[tuple[int, Observation]] = []
        for index, item in enumerate(items):
            try:
                parsed.append((index, OBSERVATION.validate_python(item)))
            except ValidationError as exc:
                reason = "; ".join(_reason(e) for e in exc.errors())
                rejects.append(Reject(index=index, event_id=event_id_of(item), reason=reason))
        return parsed

    def _refusal(
        self,
        obs: Observation,
        only_sensor: str | None,
        earliest: datetime,
        latest: datetime,
        now: datetime,
    ) -> str | None:
        sensor = self._sensors.get(obs.sensor_id)
        if sensor is None:
            return f"sensor_id: no sensor {obs.sensor_id!r} in venue {self.scenario.id!r}"
        if only_sensor is not None and obs.sensor_id != only_sensor:
            return f"sensor_id: this sender reports for sensor {only_sensor!r} only"
        if obs.kind not in ACCEPTS[sensor.kind]:
            allowed = ", ".join(sorted(ACCEPTS[sensor.kind]))
            return f"kind: a {sensor.kind.value} sends {allowed}, not {obs.kind}"
        if obs.at > latest:
            ahead = (obs.at - now).total_seconds()
            return f"at: {ahead:.0f} s in the future (sensor clock ahead?)"
        if obs.at < earliest:
            return f"at: older than {MAX_AGE_S / 3600:.0f} h"
        return None

    def _store(
        self, session: Session, observations: list[Observation], now: datetime
    ) -> set[tuple[str, str]]:
        """Insert those not stored yet; returns the (sensor, event id) pairs that were new.

        One ``executemany`` with ``ON CONFLICT DO NOTHING``. When the row count says some were
        already there, the new ones are read back by id: ``INSERT ... RETURNING`` over ten
        thousand rows costs SQLAlchemy far more than the database does. The sink runs one
        cycle at a time, so the ids above the previous maximum are this cycle's.
        """
        if not observations:
            return set()
        keys = {(o.sensor_id, o.event_id) for o in observations}
        sensors = self._sensors
        received = now.timestamp()
        rows = [_row(o, sensors[o.sensor_id].area, received) for o in observations]
        table = ObservationRow.__table__
        connection = session.connection()
        before = connection.execute(select(func.max(table.c.id))).scalar() or 0
        # Straight to the driver: SQLAlchemy's per-row parameter processing costs more than
        # SQLite's insert, and these columns need no conversion.
        result = connection.exec_driver_sql(_insert_sql(connection.dialect.name), rows)
        if result.rowcount == len(rows):
            return keys
        fresh = connection.execute(
            select(table.c.sensor_id, table.c.event_id).where(table.c.id > before)
        )
        stored = {(r.sensor_id, r.event_id) for r in fresh}
        if not stored <= keys:
            raise ConcurrentIngest(len(stored - keys))
        return stored

    def _dead_letters(
        self,
        session: Session,
        items: Sequence[Any],
        rejects: list[Reject],
        *,
        sender: str,
        source: str,
        now: datetime,
    ) -> None:
        for reject in rejects:
            item = items[reject.index]
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
