"""The audit hash chain (pure): canonical records, their hashes, and checking a chain.

Each record's hash is SHA-256 over the previous record's hash and the canonical JSON of the
record, so changing, inserting or removing a record breaks every link after it. Removing the
newest records leaves a shorter chain that is still whole: keep the head hash that
``lakeguard audit verify`` prints somewhere else to notice that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditRecord:
    """The hashed content of one audit row."""

    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    outcome: str
    detail: dict[str, Any]

    def canonical_json(self) -> bytes:
        """Sorted keys, no spaces, UTC time to the microsecond: one text per record."""
        if self.at.tzinfo is None:
            raise ValueError("naive datetime: audit times are timezone-aware UTC")
        body = {
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "outcome": self.outcome,
            "detail": self.detail,
        }
        text = json.dumps(
            body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        return text.encode()


def chain_hash(prev_hash: str, record: AuditRecord) -> str:
    """The hash of ``record`` following a record whose hash is ``prev_hash``."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + record.canonical_json()).hexdigest()


@dataclass(frozen=True)
class ChainedRecord:
    """A stored record with its position and the hashes stored beside it."""

    row_id: int
    record: AuditRecord
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking a chain: rows checked, and the first broken one if any."""

    rows: int
    head_hash: str
    broken_row_id: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_row_id is None


def check_chain(rows: Iterable[ChainedRecord]) -> ChainReport:
    """Walk rows in order and stop at the first that does not follow from the one before."""
    expected_prev = GENESIS_HASH
    count = 0
    for row in rows:
        if row.prev_hash != expected_prev:
            return ChainReport(
                count,
                expected_prev,
                row.row_id,
                "its previous hash is not the hash of the row before",
            )
        if chain_hash(row.prev_hash, row.record) != row.hash:
            return ChainReport(
                count, expected_prev, row.row_id, "its content does not match its hash"
            )
        expected_prev = row.hash
        count += 1
    return ChainReport(count, expected_prev)
