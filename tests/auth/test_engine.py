"""The audit hash chain, on plain records."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from lakeguard.auth.engine import (
    GENESIS_HASH,
    AuditRecord,
    ChainedRecord,
    chain_hash,
    check_chain,
)

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def _record(i: int, **changes: Any) -> AuditRecord:
    record = AuditRecord(
        at=T0 + timedelta(seconds=i),
        actor="dispatcher-1",
        action="incident.create",
        target_type="incident",
        target_id=str(i),
        outcome="success",
        detail={"place": "断桥", "n": i},
    )
    return dataclasses.replace(record, **changes)


def _chain(n: int) -> list[ChainedRecord]:
    rows, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        record = _record(i)
        digest = chain_hash(prev, record)
        rows.append(ChainedRecord(i, record, prev, digest))
        prev = digest
    return rows


def test_canonical_json_is_sorted_compact_utc() -> None:
    local = T0.astimezone(timezone(timedelta(hours=8)))
    text = _record(0, at=local, detail={"b": 1, "a": "湖"}).canonical_json().decode()
    assert text == (
        '{"action":"incident.create","actor":"dispatcher-1","at":"2024-05-01T08:00:00.000000+00:00",'
        '"detail":{"a":"湖","b":1},"outcome":"success","target_id":"0","target_type":"incident"}'
    )


def test_hash_is_sha256_of_previous_hash_and_record() -> None:
    record = _record(1)
    expected = hashlib.sha256(GENESIS_HASH.encode() + b"\n" + record.canonical_json()).hexdigest()
    assert chain_hash(GENESIS_HASH, record) == expected
    assert chain_hash("f" * 64, record) != expected


def test_naive_times_and_nan_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        _record(1, at=datetime(2024, 5, 1)).canonical_json()
    with pytest.raises(ValueError):
        _record(1, detail={"x": float("nan")}).canonical_json()


def test_an_intact_chain_reports_its_length_and_head() -> None:
    rows = _chain(5)
    report = check_chain(rows)
    assert report.intact and report.rows == 5
    assert report.head_hash == rows[-1].hash
    empty = check_chain([])
    assert empty.intact and empty.rows == 0 and empty.head_hash == GENESIS_HASH


def test_a_changed_record_is_the_first_broken_row() -> None:
    rows = _chain(5)
    rows[2] = dataclasses.replace(rows[2], record=_record(3, detail={"place": "elsewhere"}))
    report = check_chain(rows)
    assert (report.broken_row_id, report.rows) == (3, 2)
    assert report.reason == "its content does not match its hash"


def test_a_removed_record_breaks_the_next_link() -> None:
    rows = _chain(5)
    del rows[1]
    report = check_chain(rows)
    assert (report.broken_row_id, report.rows) == (3, 1)
    assert report.reason == "its previous hash is not the hash of the row before"


def test_a_rehashed_record_still_breaks_the_next_link() -> None:
    rows = _chain(4)
    forged = _record(2, actor="someone else")
    rows[1] = dataclasses.replace(
        rows[1], record=forged, hash=chain_hash(rows[1].prev_hash, forged)
    )
    report = check_chain(rows)
    assert report.broken_row_id == 3
