"""Security-force tables. Companies and guards (units) live in ``forces/``; these refer to them.

Joint stations refer to police stations by venue feature id without a foreign key, as units do.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lakeguard.store.base import Base

_ID = BigInteger().with_variant(Integer(), "sqlite")


class GuardCertificateRow(Base):
    """A certificate a guard holds (security guard licence, first aid, ...)."""

    __tablename__ = "guard_certificates"
    __table_args__ = (
        UniqueConstraint(
            "unit_id", "kind", "number", name="uq_guard_certificates_unit_id_kind_number"
        ),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(64), default="")
    issued_on: Mapped[date | None]
    expires_on: Mapped[date | None]


class JointStationRow(Base):
    """A police–security joint station (警保联动工作站) at a police station."""

    __tablename__ = "joint_stations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    station_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]


class JointStationMemberRow(Base):
    """A police unit or a guard attached to a joint station."""

    __tablename__ = "joint_station_members"

    joint_station_id: Mapped[str] = mapped_column(
        ForeignKey("joint_stations.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[str] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    attached_at: Mapped[datetime]


class JointTaskRow(Base):
    """A joint task planned for a date and shift (area defence, night patrol, ...)."""

    __tablename__ = "joint_tasks"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    joint_station_id: Mapped[str] = mapped_column(ForeignKey("joint_stations.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    on_date: Mapped[date] = mapped_column(index=True)
    shift: Mapped[str] = mapped_column(String(11))
    place: Mapped[str] = mapped_column(String(128), default="")
    note: Mapped[str] = mapped_column(default="")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class JointTaskUnitRow(Base):
    __tablename__ = "joint_task_units"

    task_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("joint_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[str] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )


class TrainingSessionRow(Base):
    """A training session (anti-terror, emergency rescue, first aid, ...)."""

    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    joint_station_id: Mapped[str | None] = mapped_column(ForeignKey("joint_stations.id"))
    type: Mapped[str] = mapped_column(String(32))
    held_on: Mapped[date] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(128), default="")
    place: Mapped[str] = mapped_column(String(128), default="")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class TrainingAttendanceRow(Base):
    __tablename__ = "training_attendance"

    session_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[str] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# -- what the API answers -------------------------------------------------------------------


class _Read(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CertificateAdded(_Read):
    id: int
    unit_id: str
    kind: str
    number: str


class CertificateRead(_Read):
    id: int
    kind: str
    number: str
    issued_on: date | None
    expires_on: date | None


class JointStationRead(_Read):
    id: str
    name: str
    station: str
    members: list[str]


class MembersAdded(JointStationRead):
    added: list[str]


class JointTaskRead(_Read):
    id: int
    joint_station: str | None
    type: str
    date: date
    shift: str
    place: str
    note: str
    unit_ids: list[str]


class TrainingRead(_Read):
    id: int
    type: str
    held_on: date
    title: str
    place: str
    joint_station: str | None


class TrainingRecorded(TrainingRead):
    attended: list[str]


class AttendanceAdded(_Read):
    session_id: int
    added: list[str]


class CompanyTrainingRead(_Read):
    company: str
    guards: int
    trained: int
    overdue: int
    trained_share: float | None
    overdue_units: list[str]


class TrainingReportRead(_Read):
    """Per security company: guards trained in the month, and guards overdue."""

    month: str
    overdue_days: int
    companies: list[CompanyTrainingRead]
