"""The outbox: events written in the same transaction as the state they describe.

A relay then publishes unpublished rows, in order, to the bus and marks them published, so
an event is never lost between a commit and the bus (at-least-once: subscribers use the
``event_id`` to ignore repeats).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from lakeguard.bus.base import Bus
from lakeguard.events import Event, event_from_payload
from lakeguard.store.base import Base


class OutboxRow(Base):
    __tablename__ = "outbox"

    # BigInteger on PostgreSQL, INTEGER (the rowid) on SQLite, so both autoincrement.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]
    published_at: Mapped[datetime | None] = mapped_column(index=True)


def emit(session: Session, event: Event) -> None:
    """Add an event to the outbox in the caller's transaction."""
    session.add(
        OutboxRow(
            event_id=str(event.event_id),
            topic=event.topic,
            payload=event.model_dump(mode="json"),
            occurred_at=event.occurred_at,
        )
    )


def emit_many(session: Session, events: Sequence[Event]) -> None:
    """Add many events at once, in order, with one bulk insert (for high-rate producers)."""
    if events:
        session.execute(
            insert(OutboxRow),
            [
                {
                    "event_id": str(e.event_id),
                    "topic": e.topic,
                    "payload": e.model_dump(mode="json"),
                    "occurred_at": e.occurred_at,
                }
                for e in events
            ],
        )


def relay(sessions: sessionmaker[Session], bus: Bus, *, now: datetime, batch: int = 500) -> int:
    """Publish unpublished outbox rows in order and mark them; returns how many."""
    published = 0
    with sessions() as session, session.begin():
        rows = session.scalars(
            select(OutboxRow)
            .where(OutboxRow.published_at.is_(None))
            .order_by(OutboxRow.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            bus.publish(event_from_payload(row.topic, row.payload))
            published += 1
        if rows:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([r.id for r in rows]))
                .values(published_at=now)
            )
    return published


def head_seq(session: Session) -> int:
    """The newest outbox sequence number (0 for an empty outbox)."""
    return int(session.scalar(select(func.coalesce(func.max(OutboxRow.id), 0))) or 0)


def events_since(session: Session, after_id: int, limit: int = 1000) -> list[OutboxRow]:
    """Outbox rows after an id, in order (for replay and stream catch-up)."""
    return list(
        session.scalars(
            select(OutboxRow).where(OutboxRow.id > after_id).order_by(OutboxRow.id).limit(limit)
        )
    )
