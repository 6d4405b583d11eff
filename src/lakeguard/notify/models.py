"""Notify tables: the worker's cursor, deliveries, the messages that carried them, broadcasts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lakeguard.clock import IsoTime
from lakeguard.store.base import Base

_ID = BigInteger().with_variant(Integer(), "sqlite")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker that is talking to the service now
    SENT = "sent"
    RETRYING = "retrying"
    DEAD = "dead"


WAITING = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


class NotifyCursorRow(Base):
    """How far the worker has read the outbox, so a restart does not plan an event twice."""

    __tablename__ = "notify_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    after_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class NotifyMessageRow(Base):
    """One attempt to send a message (one notice or a digest) to a target: the wire record."""

    __tablename__ = "notify_messages"
    __table_args__ = (Index("ix_notify_messages_target_started_at", "target", "started_at"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16))  # sending, ok, retry, failed
    status_code: Mapped[int | None]
    detail: Mapped[str] = mapped_column(String(500), default="")
    notices: Mapped[int]
    idempotency_key: Mapped[str] = mapped_column(String(64))


class DeliveryRow(Base):
    """One notice for one target; ``key`` (event id and target) makes it happen once."""

    __tablename__ = "notify_deliveries"
    __table_args__ = (Index("ix_notify_deliveries_target_status", "target", "status"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    topic: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str]
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(_ID, ForeignKey("notify_messages.id"))
    last_error: Mapped[str] = mapped_column(String(500), default="")


class BroadcastRow(Base):
    """A notice sent to chosen groups, stations or the whole venue."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str]
    selection: Mapped[dict[str, Any]]  # what the sender chose: group ids, station ids, venue
    # The groups it resolved to: [{"group_id", "name", "target"}], target None when unset.
    groups: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


# -- what the API answers -------------------------------------------------------------------


class _Read(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleRead(_Read):
    name: str
    topic: str
    description: str


class TargetsRead(_Read):
    """Configured targets (each as its type's settings, secrets as their last four) and rules."""

    targets: list[dict[str, Any]]
    rules: list[RuleRead]


class DeliveryRead(_Read):
    id: int
    key: str
    event_id: str
    topic: str
    target: str
    title: str
    severity: str
    status: str
    attempts: int
    created_at: IsoTime
    next_attempt_at: IsoTime
    sent_at: IsoTime | None
    message_id: int | None
    last_error: str


class DeliveriesRead(_Read):
    deliveries: list[DeliveryRead]


class BroadcastRead(_Read):
    id: int
    kind: str
    title: str
    body: str
    selection: dict[str, Any]
    event_id: str
    created_by: str
    created_at: IsoTime


class GroupDeliveryRead(_Read):
    """A group a broadcast went to, and the delivery to its target."""

    group_id: int
    name: str
    target: str | None
    status: str
    attempts: int
    sent_at: IsoTime | None
    last_error: str


class BroadcastDetailRead(BroadcastRead):
    groups: list[GroupDeliveryRead]


class BroadcastsRead(_Read):
    broadcasts: list[BroadcastRead]
