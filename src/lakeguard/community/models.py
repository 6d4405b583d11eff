"""Community tables (communities, liaison groups, residents' cases and their timeline).

``CommunityRow`` and ``LiaisonGroupRow`` are read by ``notify/`` broadcasts to resolve
"the groups of station X" to notification targets: keep their names and columns.
Stations are referred to by venue feature id without a foreign key, as units do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lakeguard.clock import IsoTime
from lakeguard.community.engine import Coverage
from lakeguard.store.base import Base, RowRead

_ID = BigInteger().with_variant(Integer(), "sqlite")


class CommunityRow(Base):
    """A residential community (社区) and the police station that serves it."""

    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("venue_id", "name", name="uq_communities_venue_id_name"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    venue_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(128))
    station_id: Mapped[str] = mapped_column(String(64), index=True)
    registered_population: Mapped[int]
    # Residents who can be reached at all (have a phone, live there): coverage's denominator.
    reachable_population: Mapped[int]
    created_at: Mapped[datetime]


class LiaisonGroupRow(Base):
    """A police–resident liaison group (警民联系群) in a chat app."""

    __tablename__ = "liaison_groups"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    community_id: Mapped[int] = mapped_column(_ID, ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(
        String(16)
    )  # wecom, dingtalk, feishu, webhook, email, other
    members: Mapped[int]
    notify_target: Mapped[str | None] = mapped_column(String(64))  # a target named in notify/
    created_at: Mapped[datetime]


class CaseRow(Base):
    """A resident's request and the case that follows it to an outcome."""

    __tablename__ = "community_cases"
    __table_args__ = (Index("ix_community_cases_status_received_at", "status", "received_at"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    community_id: Mapped[int | None] = mapped_column(_ID, ForeignKey("communities.id"))
    group_id: Mapped[int | None] = mapped_column(_ID, ForeignKey("liaison_groups.id"))
    station_id: Mapped[str | None] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))  # group, call, walk_in, api
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(default="")
    # The resident's user account when they filed it themselves; who may see it.
    resident_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    resident_name: Mapped[str] = mapped_column(String(64), default="")
    contact: Mapped[str] = mapped_column(String(64), default="")
    officer_unit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    received_at: Mapped[datetime]
    assigned_at: Mapped[datetime | None]
    concluded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome_detail: Mapped[str] = mapped_column(default="")  # agreement, referred to, reason
    amount_yuan: Mapped[float | None] = mapped_column(Numeric(12, 2, asdecimal=False))
    feedback_rating: Mapped[int | None]
    feedback_text: Mapped[str | None]
    feedback_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(128))


class CaseEntryRow(Base):
    """One step of a case: a status change or an action (visit, call, mediation, note)."""

    __tablename__ = "community_case_timeline"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(_ID, ForeignKey("community_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # status, visit, call, mediation, note, feedback
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    parties: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(default="")
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))


class CaseReminderRow(Base):
    """A reminder sent for an overdue case: one per case and overdue period (idempotence)."""

    __tablename__ = "community_case_reminders"
    __table_args__ = (
        UniqueConstraint("case_id", "period", name="uq_community_case_reminders_case_id_period"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(_ID, ForeignKey("community_cases.id"), index=True)
    period: Mapped[int]  # 1: first overdue period, 2: overdue by two targets, ...
    sent_at: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


# -- what the API answers -------------------------------------------------------------------


class CommunityRead(BaseModel):
    id: int
    name: str
    station: str
    registered_population: int
    reachable_population: int

    @classmethod
    def of(cls, row: CommunityRow) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            station=row.station_id,
            registered_population=row.registered_population,
            reachable_population=row.reachable_population,
        )


class GroupRead(RowRead):
    id: int
    community_id: int
    name: str
    channel: str
    members: int
    notify_target: str | None


class CoverageRead(BaseModel):
    key: str
    groups: int
    members: int
    reachable_population: int
    registered_population: int
    coverage: float | None
    meets_target: bool
    shortfall: int

    @classmethod
    def of(cls, c: Coverage) -> Self:
        return cls(
            key=c.key,
            groups=c.groups,
            members=c.members,
            reachable_population=c.reachable,
            registered_population=c.registered,
            coverage=round(c.ratio, 4) if c.ratio is not None else None,
            meets_target=c.meets_target,
            shortfall=c.shortfall,
        )


class CoverageReportRead(BaseModel):
    """Group members over reachable population, per community, station and venue."""

    target: float
    communities: list[CoverageRead]
    stations: list[CoverageRead]
    venues: list[CoverageRead]


class FeedbackRead(BaseModel):
    rating: int | None
    text: str | None
    at: IsoTime


class CaseRead(BaseModel):
    id: int
    category: str
    source: str
    status: str
    summary: str
    description: str
    station: str | None
    community_id: int | None
    group_id: int | None
    resident_user_id: int | None
    resident_name: str
    officer_unit_id: str | None
    received_at: IsoTime
    assigned_at: IsoTime | None
    concluded_at: IsoTime | None
    closed_at: IsoTime | None
    outcome_detail: str
    amount_yuan: int | float | None  # as the database reads it back (SQLite: 120, not 120.0)
    feedback: FeedbackRead | None

    @classmethod
    def of(cls, row: CaseRow) -> Self:
        return cls(
            id=row.id,
            category=row.category,
            source=row.source,
            status=row.status,
            summary=row.summary,
            description=row.description,
            station=row.station_id,
            community_id=row.community_id,
            group_id=row.group_id,
            resident_user_id=row.resident_user_id,
            resident_name=row.resident_name,
            officer_unit_id=row.officer_unit_id,
            received_at=row.received_at,
            assigned_at=row.assigned_at,
            concluded_at=row.concluded_at,
            closed_at=row.closed_at,
            outcome_detail=row.outcome_detail,
            amount_yuan=row.amount_yuan,
            feedback=None
            if row.feedback_at is None
            else FeedbackRead(
                rating=row.feedback_rating, text=row.feedback_text, at=row.feedback_at
            ),
        )


class CaseEntryRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    at: IsoTime
    kind: str
    from_: str | None = Field(alias="from")
    to: str | None
    parties: list[str]
    note: str
    actor: str

    @classmethod
    def of(cls, row: CaseEntryRow) -> Self:
        return cls(
            at=row.at,
            kind=row.kind,
            from_=row.from_status,
            to=row.to_status,
            parties=row.parties,
            note=row.note,
            actor=row.actor,
        )


class CaseDetailRead(CaseRead):
    """A case with its timeline."""

    timeline: list[CaseEntryRead]


class ReminderRead(BaseModel):
    case_id: int
    period: int
    status: str


class RemindersRead(BaseModel):
    sent: list[ReminderRead]
