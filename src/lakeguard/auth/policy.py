"""Who may call what. Every route declares its policy; a route without one is refused.

CONTRACT (other domains code against this; the implementation lives in this package):

- ``Role``: the roles a user can hold.
- ``Principal``: who is calling: a user (browser session or bearer token) or a device (a
  bearer token bound to a unit or a sensor).
- ``require(*roles, scope=None)``: a FastAPI dependency factory. The returned dependency
  authenticates the request (session cookie with CSRF check on unsafe methods, or
  ``Authorization: Bearer <token>``, or for device protocols that cannot set headers a
  ``token`` query/form parameter), answers 401 when nobody is authenticated and 403 (audited)
  when the principal holds none of ``roles`` (or, for tokens, lacks ``scope``), and returns the
  ``Principal``. Use it as ``principal: Annotated[Principal, Depends(require(Role.DISPATCHER))]``.
- ``public()``: the explicit policy of routes anyone may call (health, login, docs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COMMANDER = "commander"
    DISPATCHER = "dispatcher"
    FIELD_OFFICER = "field_officer"
    GUARD = "guard"
    RESIDENT = "resident"
    AUDITOR = "auditor"
    DEVICE = "device"  # a tracker or sensor, through a bearer token bound to it


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    subject: str  # username, or "device:<unit or sensor id>"
    roles: frozenset[Role]
    user_id: int | None = None
    unit_id: str | None = None  # set for a device token bound to a unit (and for users who are one)
    sensor_id: str | None = None  # set for a device token bound to a sensor
    scopes: frozenset[str] = field(default_factory=frozenset)  # empty: a browser session
