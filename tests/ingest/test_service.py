"""The ingest path below HTTP: decoding a JSON batch, naming bad items, storing each observation
once (COPY on PostgreSQL), and handing on only what its transaction committed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lakeguard.ingest.models import ObservationRow, RejectRow
from lakeguard.ingest.schema import (
    AreaCount,
    Crossing,
    DensityEstimate,
    NotABatch,
    Observation,
    SensorStatus,
)
from lakeguard.ingest.service import BatchTooLarge, Ingestor
from lakeguard.store.session import make_sessionmaker, transaction
from lakeguard.venue.loader import Scenario

GATE = "gate-broken-bridge-north"
CAMERA = "cam-broken-bridge-deck"
NOW = datetime.now(UTC).replace(microsecond=0)


class RecordingSink:
    """An ObservationSink that keeps what it was handed, optionally failing to take it."""

    def __init__(self, engine: Engine, *, fail: bool = False) -> None:
        self.sessions = make_sessionmaker(engine)
        self.fail = fail
        self.taken: list[list[Observation]] = []

    @contextmanager
    def cycle(self) -> Iterator[Session]:
        with transaction(self.sessions) as session:
            yield session

    def take(self, session: Session, observations: Sequence[Observation]) -> None:
        if self.fail:
            raise RuntimeError("the sink failed")
        self.taken.append(list(observations))


def item(kind: str, event_id: str, seconds_ago: float, sensor: str = CAMERA, **values: Any) -> Any:
    at = (NOW - timedelta(seconds=seconds_ago)).isoformat()
    return {"kind": kind, "event_id": event_id, "sensor_id": sensor, "at": at, **values}


def body(items: list[Any]) -> bytes:
    return json.dumps(items).encode()


def rows(engine: Engine) -> list[ObservationRow]:
    with make_sessionmaker(engine)() as session:
        return list(session.scalars(select(ObservationRow).order_by(ObservationRow.event_id)))


@pytest.fixture
def sink(db_engine: Engine) -> RecordingSink:
    return RecordingSink(db_engine)


@pytest.fixture
def ingestor(westlake: Scenario, sink: RecordingSink) -> Ingestor:
    return Ingestor(westlake, sink)


def ingest(ingestor: Ingestor, items: list[Any]) -> Any:
    return ingestor.ingest_json(body(items), sender="test", source="http", now=NOW)


def test_each_kind_is_stored_flat_and_handed_on_oldest_first(
    ingestor: Ingestor, sink: RecordingSink, db_engine: Engine
) -> None:
    batch = [
        item("count", "o-1", 10, count=120, coverage=0.5),
        item("crossing", "o-2", 30, sensor=GATE, window_s=10, **{"in": 7, "out": 3}),
        item("density", "o-3", 20, persons_per_m2=1.5),
        item("status", "o-4", 40, sensor=GATE, online=False),
    ]
    result = ingest(ingestor, batch)
    assert (result.accepted, result.duplicates, result.rejected) == (4, 0, [])
    [taken] = sink.taken
    assert [o.event_id for o in taken] == ["o-4", "o-2", "o-3", "o-1"]
    assert [type(o) for o in taken] == [SensorStatus, Crossing, DensityEstimate, AreaCount]
    stored = {r.event_id: r for r in rows(db_engine)}
    crossing, count = stored["o-2"], stored["o-1"]
    assert (crossing.kind, crossing.area_id) == ("crossing", "broken-bridge")
    assert (crossing.window_s, crossing.entered, crossing.exited) == (10.0, 7, 3)
    assert crossing.at_s == (NOW - timedelta(seconds=30)).timestamp()
    assert crossing.received_s == NOW.timestamp() and crossing.count is None
    assert (count.count, count.coverage, count.entered) == (120, 0.5, None)
    assert (stored["o-3"].persons_per_m2, stored["o-3"].coverage) == (1.5, 1.0)
    assert stored["o-4"].online is False


def test_bad_items_are_refused_by_field_and_the_rest_go_on(
    ingestor: Ingestor, sink: RecordingSink, db_engine: Engine
) -> None:
    batch = [
        item("crossing", "b-0", 5, sensor=GATE, window_s=10, **{"in": -1, "out": 0}),
        item("count", "b-1", 5),
        item("count", "b-2", 5, count=3, colour="red"),
        item("smell", "b-3", 5),
        {**item("count", "b-4", 5, count=3), "at": "2026-05-01T09:00:00"},
        "not an object",
        item("count", "", 5, count=3),
        item("count", "b-7", 5, count=3),
        item("density", "b-8", 5, persons_per_m2=40),
        item("count", "b-9", 5, sensor="cam-nowhere", count=3),
    ]
    result = ingest(ingestor, batch)
    assert result.accepted == 1 and [o.event_id for o in sink.taken[0]] == ["b-7"]
    reasons = {r.index: r.reason for r in result.rejected}
    assert reasons == {
        0: "in: Expected `int` >= 0",
        1: "count: Field required",
        2: "colour: unknown field",
        3: "kind: Invalid value 'smell'",
        4: "at: Expected `datetime` with a timezone component",
        5: "Expected `object`, got `str`",
        6: "event_id: Expected `str` of length >= 1",
        8: "persons_per_m2: Expected `float` <= 15.0",
        9: "sensor_id: no sensor 'cam-nowhere' in venue 'westlake'",
    }
    assert [r.event_id for r in result.rejected][:4] == ["b-0", "b-1", "b-2", "b-3"]
    with make_sessionmaker(db_engine)() as session:
        letters = {r.batch_index: r for r in session.scalars(select(RejectRow))}
    assert sorted(letters) == sorted(reasons)
    assert letters[3].payload == batch[3] and letters[5].payload == "not an object"
    assert letters[0].reason == reasons[0] and letters[0].sensor_id == GATE
    assert [r.event_id for r in rows(db_engine)] == ["b-7"]


def test_a_repeat_is_a_duplicate_within_a_batch_and_across_batches(
    ingestor: Ingestor, sink: RecordingSink, db_engine: Engine
) -> None:
    first = [item("count", f"d-{i}", 30 - i, count=i) for i in range(3)]
    assert ingest(ingestor, first).accepted == 3
    # Two stored already, one new, and the new one twice: on PostgreSQL the COPY meets the
    # unique key and the batch is inserted again, skipping those stored.
    again = [first[0], item("count", "d-9", 1, count=9), first[2], item("count", "d-9", 1, count=9)]
    result = ingest(ingestor, again)
    assert (result.accepted, result.duplicates, result.rejected) == (1, 3, [])
    assert [o.event_id for o in sink.taken[1]] == ["d-9"]
    assert [(r.event_id, r.count) for r in rows(db_engine)] == [
        ("d-0", 0),
        ("d-1", 1),
        ("d-2", 2),
        ("d-9", 9),
    ]


def test_nothing_is_kept_when_the_cycle_fails(westlake: Scenario, db_engine: Engine) -> None:
    failing = Ingestor(westlake, RecordingSink(db_engine, fail=True))
    with pytest.raises(RuntimeError, match="the sink failed"):
        ingest(failing, [item("count", "f-1", 5, count=3), item("smell", "f-2", 5)])
    assert rows(db_engine) == []
    with make_sessionmaker(db_engine)() as session:
        assert session.scalars(select(RejectRow)).all() == []


def test_a_batch_over_the_limit_or_not_an_array_is_refused_whole(
    ingestor: Ingestor, sink: RecordingSink, db_engine: Engine
) -> None:
    good = [item("count", f"l-{i}", 5, count=1) for i in range(10_001)]
    with pytest.raises(BatchTooLarge, match="10001"):
        ingest(ingestor, good)
    with pytest.raises(BatchTooLarge, match="10001"):
        ingest(ingestor, [*good[:-1], "bad"])  # the limit holds on the item-by-item path too
    with pytest.raises(NotABatch, match="array"):
        ingestor.ingest_json(body(good[0]), sender="test", source="http", now=NOW)
    with pytest.raises(NotABatch, match="not JSON"):
        ingestor.ingest_json(b'[{"kind": ', sender="test", source="http", now=NOW)
    assert sink.taken == [] and rows(db_engine) == []


def test_decoded_values_take_the_same_path(
    ingestor: Ingestor, sink: RecordingSink, db_engine: Engine
) -> None:
    result = ingestor.ingest(
        [item("count", "v-1", 5, count=2), item("count", "v-2", 5, count=-2)],
        sender="mqtt:x",
        source="mqtt",
        now=NOW,
    )
    assert result.accepted == 1
    assert [(r.index, r.reason) for r in result.rejected] == [(1, "count: Expected `int` >= 0")]
    assert [r.event_id for r in rows(db_engine)] == ["v-1"]
