"""Ingest tables: every accepted observation, and the dead letters of those refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, BigInteger, Double, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lakeguard.clock import IsoTime
from lakeguard.store.base import Base

_ID = BigInteger().with_variant(Integer(), "sqlite")


class ObservationRow(Base):
    """One observation, flat: the columns a kind does not use stay empty.

    Flat columns rather than a JSON document, and times as seconds since the epoch (UTC)
    rather than timestamps, because ingest writes tens of thousands of these a second: binding
    two timestamps a row cost more than the insert itself. Append-only, with no index beyond
    the key and the unique pair below: each index is paid for on every insert, and nothing
    reads observations back by area or time.
    """

    __tablename__ = "observations"
    __table_args__ = (
        # A re-sent observation is recognised by its sensor and event id and stored once.
        UniqueConstraint("sensor_id", "event_id", name="uq_observations_sensor_event"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    sensor_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128))
    area_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    at_s: Mapped[float] = mapped_column(Double)  # when observed, seconds since the epoch
    received_s: Mapped[float] = mapped_column(Double)  # when accepted, the same
    window_s: Mapped[float | None]
    entered: Mapped[int | None]
    exited: Mapped[int | None]
    count: Mapped[int | None]
    coverage: Mapped[float | None]
    persons_per_m2: Mapped[float | None]
    online: Mapped[bool | None]


class RejectRow(Base):
    """A refused observation (a dead letter): what came in, from whom, and why it was refused."""

    __tablename__ = "observation_rejects"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(16))  # http or mqtt
    sender: Mapped[str] = mapped_column(String(128))  # who sent the batch
    batch_index: Mapped[int]
    sensor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    event_id: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str]
    payload: Mapped[Any] = mapped_column(JSON)  # the item as sent, cut to a bounded size


class RejectRead(BaseModel):
    """A dead letter: an observation refused, with why and the item as sent."""

    model_config = ConfigDict(extra="forbid")

    id: int
    received_at: IsoTime
    source: str
    sender: str
    index: int
    sensor_id: str | None
    event_id: str | None
    reason: str
    payload: Any
