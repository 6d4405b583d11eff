"""Auth tables (users, their roles, browser sessions, bearer tokens, the audit log) and schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lakeguard.auth.roles import Role
from lakeguard.store.base import Base, RowRead

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # None: the user cannot log in with a password (a service account that only holds tokens).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    role_rows: Mapped[list[UserRoleRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRoleRow.role"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)


class UserRoleRow(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class WebSessionRow(Base):
    """A browser session. Only a hash of the session id is kept, so the table grants nothing."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ApiTokenRow(Base):
    """A bearer token. Bound to a unit or a sensor, it is a device token (role ``device``)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(128), default="")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[str | None] = mapped_column(String(64))
    sensor_id: Mapped[str | None] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def is_device(self) -> bool:
        return self.unit_id is not None or self.sensor_id is not None


class AuditRow(Base):
    """One audit record; ``hash`` covers the previous row's hash and this row's content."""

    __tablename__ = "audit_log"

    # BigInteger on PostgreSQL, INTEGER (the rowid) on SQLite, so both autoincrement.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(256))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]]
    # Unique, so two appends that read the same last row cannot both commit: no fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# -- schemas --------------------------------------------------------------------------------


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class LoginRead(BaseModel):
    username: str
    roles: list[Role]
    csrf_token: str


class MeRead(BaseModel):
    subject: str
    username: str | None = Field(description="None for a device token")
    roles: list[Role]
    unit_id: str | None
    sensor_id: str | None
    scopes: list[str] = Field(description="Empty for a browser session")
    csrf_token: str | None = Field(description="Send back as X-CSRF-Token on cookie writes")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN)
    password: str | None = Field(
        None, max_length=1024, description="None: the user holds tokens only, no password login"
    )
    roles: list[Role] = Field(min_length=1)
    unit_id: str | None = Field(None, max_length=64)


class UserRead(BaseModel):
    id: int
    username: str
    roles: list[Role]
    unit_id: str | None
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, row: UserRow) -> UserRead:
        return cls(
            id=row.id,
            username=row.username,
            roles=sorted(row.roles),
            unit_id=row.unit_id,
            disabled=row.disabled,
            created_at=row.created_at,
        )


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str | None = Field(
        None, description="Owner; a device token for a sensor may have none"
    )
    scopes: list[str] = Field(min_length=1)
    unit_id: str | None = Field(None, max_length=64, description="Bind to a unit: a device token")
    sensor_id: str | None = Field(
        None, max_length=64, description="Bind to a sensor: a device token"
    )
    label: str = Field("", max_length=128)


class TokenRead(BaseModel):
    id: int
    label: str
    username: str | None
    unit_id: str | None
    sensor_id: str | None
    scopes: list[str]
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(TokenRead):
    token: str = Field(description="Shown once; only its SHA-256 hash is stored")


class AuditRead(RowRead):
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    outcome: str
    detail: dict[str, Any]
    hash: str
