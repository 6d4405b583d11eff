"""Roles, the authenticated caller, and the named role groups routes are opened to.

Each group name means one set of roles everywhere, in Python as in the dashboard's scripts
(``web/static/js``): a route that needs another set composes it from these and a role or two,
under a name of its own.
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


# Roles a user account may hold; ``device`` belongs to device tokens alone.
USER_ROLES: tuple[Role, ...] = tuple(r for r in Role if r != Role.DEVICE)

# The command room: who directs incidents, alerts, plans and broadcasts.
COMMAND: frozenset[Role] = frozenset({Role.ADMIN, Role.COMMANDER, Role.DISPATCHER})
# Who changes the standing setup: units, companies, joint stations, training.
LEADERSHIP: frozenset[Role] = frozenset({Role.ADMIN, Role.COMMANDER})
# Who sees the command room's whole picture: the command room and its auditors.
WATCH: frozenset[Role] = COMMAND | {Role.AUDITOR}
# Who reviews the records of the machinery: rejected observations, notification deliveries.
OVERSIGHT: frozenset[Role] = LEADERSHIP | {Role.AUDITOR}
# Who works on the ground.
FIELD: frozenset[Role] = frozenset({Role.FIELD_OFFICER, Role.GUARD})
# Who acts on incidents, alerts and plan steps: the command room and those on the ground.
RESPONSE: frozenset[Role] = COMMAND | FIELD
# Everyone who works the venue (and those who audit them): every user role but residents.
STAFF: frozenset[Role] = WATCH | FIELD


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    subject: str  # username, or "device:<unit or sensor id>"
    roles: frozenset[Role]
    user_id: int | None = None
    unit_id: str | None = None  # set for a device token bound to a unit (and for users who are one)
    sensor_id: str | None = None  # set for a device token bound to a sensor
    scopes: frozenset[str] = field(default_factory=frozenset)  # empty: a browser session
    token_id: int | None = None  # the bearer token used, if any
    session_key: str | None = field(default=None, repr=False)  # hash of the browser session id
    csrf_token: str | None = field(default=None, repr=False)  # the browser session's CSRF token

    @property
    def via_session(self) -> bool:
        return self.session_key is not None
