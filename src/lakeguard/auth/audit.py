"""The audit log: an append-only, hash-chained table of who did what, when, with what outcome.

Appends are part of the caller's transaction, and serialised so that the chain never forks:
PostgreSQL takes a transaction-level advisory lock before reading the last hash; SQLite takes
its single write lock. Append last in a transaction, since the lock is held until commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from lakeguard.auth.engine import (
    GENESIS_HASH,
    AuditRecord,
    ChainedRecord,
    ChainReport,
    chain_hash,
    check_chain,
)
from lakeguard.auth.models import AuditRow
from lakeguard.auth.roles import Principal

# One fixed 64-bit key for pg_advisory_xact_lock, derived from a name so it is unlikely to
# collide with another application's advisory locks on a shared database.
ADVISORY_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"lakeguard.audit_log").digest()[:8], "big", signed=True
)


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


def _lock_chain(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
    elif dialect == "sqlite":
        # The driver opens a transaction only at the first write, so the last hash would be
        # read outside any lock; a write that touches nothing takes SQLite's write lock first.
        session.execute(text("UPDATE audit_log SET id = id WHERE 0"))


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    outcome: Outcome,
    detail: dict[str, Any] | None = None,
    now: datetime,
) -> AuditRow:
    """Add one record to the chain in the caller's transaction."""
    _lock_chain(session)
    last = session.scalar(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1))
    record = AuditRecord(
        at=now,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        outcome=outcome.value,
        detail=detail or {},
    )
    prev_hash = last or GENESIS_HASH
    row = AuditRow(**asdict(record), prev_hash=prev_hash, hash=chain_hash(prev_hash, record))
    session.add(row)
    session.flush()
    return row


def audit_read(
    session: Session, principal: Principal, target_type: str, target_id: str, now: datetime
) -> AuditRow:
    """Record that ``principal`` read a sensitive record (a lost child's photo, a GPS track).

    Call it in the transaction that reads the record, and commit that transaction.
    """
    return append(
        session,
        actor=principal.subject,
        action="record.read",
        target_type=target_type,
        target_id=target_id,
        outcome=Outcome.SUCCESS,
        now=now,
    )


def list_records(
    session: Session,
    *,
    limit: int = 100,
    before_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> list[AuditRow]:
    """The newest records first, optionally before an id and for one actor or action."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditRow.id < before_id)
    if actor is not None:
        query = query.where(AuditRow.actor == actor)
    if action is not None:
        query = query.where(AuditRow.action == action)
    return list(session.scalars(query))


def _chained(session: Session, batch: int) -> Iterator[ChainedRecord]:
    # Plain rows, not ORM objects, so a long log streams without filling the identity map.
    t = AuditRow.__table__.c
    rows = session.execute(
        select(t.id, t.at, t.actor, t.action, t.target_type, t.target_id, t.outcome, t.detail)
        .add_columns(t.prev_hash, t.hash)
        .order_by(t.id)
        .execution_options(yield_per=batch)
    )
    for row in rows:
        record = AuditRecord(
            at=row.at,
            actor=row.actor,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            outcome=row.outcome,
            detail=row.detail,
        )
        yield ChainedRecord(row.id, record, row.prev_hash, row.hash)


def verify_chain(session: Session, *, batch: int = 1000) -> ChainReport:
    """Walk the whole log in order; the report names the first broken row, if any."""
    return check_chain(_chained(session, batch))
