"""Who may call what: every API route × every role (and nobody), against one explicit table.

Adding a route without adding it to ``EXPECTED`` fails ``test_every_route_is_in_the_table``:
deciding who may call a new route is part of adding it.

Each cell sends a plausible request (path parameters from ``PATH_VALUES``, an empty JSON
object as the body of writes). The policy runs before FastAPI validates the body against the
route's model, so a caller who may not call a route gets 401/403 even though the body is
invalid, and a caller who may gets anything else (422 included). Malformed JSON would be
answered 422 before the policy runs, which is why the body is ``{}`` and not garbage.
Callers use bearer tokens holding every scope, so this table is about roles alone; scopes
and browser sessions (CSRF) are tested in tests/auth.

The roles of the venue routes: every signed-in role but residents and devices (the layout of
posts and sensors is operational detail, not for the public), except the summary, which is
counts only and public.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lakeguard.api.app import create_app
from lakeguard.auth.policy import KNOWN_SCOPES, api_routes
from lakeguard.auth.roles import Role
from lakeguard.config import Settings
from tests.auth.helpers import login_headers

PUBLIC = "public"
ADMIN, COMMANDER, DISPATCHER = Role.ADMIN, Role.COMMANDER, Role.DISPATCHER
FIELD_OFFICER, GUARD, RESIDENT = Role.FIELD_OFFICER, Role.GUARD, Role.RESIDENT
AUDITOR, DEVICE = Role.AUDITOR, Role.DEVICE

# Everyone who works the venue, and those who audit them; not residents, not devices.
STAFF = {ADMIN, COMMANDER, DISPATCHER, FIELD_OFFICER, GUARD, AUDITOR}
PEOPLE = STAFF | {RESIDENT}
COMMAND = {ADMIN, COMMANDER, DISPATCHER}
WATCH = COMMAND | {AUDITOR}
RESPOND = COMMAND | {FIELD_OFFICER, GUARD, DEVICE}

EXPECTED: dict[tuple[str, str], str | set[Role]] = {
    ("GET", "/api/v1/health"): PUBLIC,
    ("GET", "/api/v1/clock"): PUBLIC,
    ("GET", "/api/v1/events"): STAFF,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): PEOPLE,
    ("GET", "/api/v1/auth/me"): PEOPLE | {DEVICE},
    ("POST", "/api/v1/auth/tokens"): {ADMIN},
    ("GET", "/api/v1/auth/tokens"): {ADMIN},
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): {ADMIN},
    ("GET", "/api/v1/users"): {ADMIN},
    ("POST", "/api/v1/users"): {ADMIN},
    ("GET", "/api/v1/audit"): {ADMIN, AUDITOR},
    ("GET", "/api/v1/venue"): PUBLIC,
    ("GET", "/api/v1/venue/layers/{layer}"): STAFF,
    ("GET", "/api/v1/venue/coverage"): STAFF,
    ("GET", "/api/v1/venue/travel-time"): STAFF,
    ("POST", "/api/v1/incidents"): COMMAND,
    ("GET", "/api/v1/incidents"): WATCH,
    ("GET", "/api/v1/incidents/{incident_id}"): WATCH,
    ("GET", "/api/v1/incidents/{incident_id}/recommendation"): COMMAND,
    ("POST", "/api/v1/incidents/{incident_id}/dispatch"): COMMAND,
    ("POST", "/api/v1/incidents/{incident_id}/assignments/{unit_id}"): RESPOND,
    ("POST", "/api/v1/incidents/{incident_id}/close"): COMMAND,
    ("POST", "/api/v1/incidents/{incident_id}/cancel"): COMMAND,
    ("GET", "/api/v1/incident-types"): WATCH,
    ("GET", "/api/v1/places"): COMMAND,
    ("GET", "/api/v1/metrics/response"): WATCH,
    ("GET", "/api/v1/patrol/compliance"): WATCH,
    ("GET", "/api/v1/units/status-labels"): STAFF,
    ("GET", "/api/v1/units"): STAFF,
    ("POST", "/api/v1/units"): {ADMIN, COMMANDER},
    ("GET", "/api/v1/units/{unit_id}"): STAFF,
    ("PATCH", "/api/v1/units/{unit_id}"): {ADMIN, COMMANDER},
    ("POST", "/api/v1/units/{unit_id}/status"): {COMMANDER, DISPATCHER, FIELD_OFFICER, GUARD},
    ("POST", "/api/v1/units/{unit_id}/positions"): COMMAND | {FIELD_OFFICER, GUARD},
    ("GET", "/api/v1/positions/osmand"): {DEVICE},
    ("POST", "/api/v1/positions/osmand"): {DEVICE},
    # The device here is a unit's tracker; a sensor's own token is tested in tests/ingest.
    ("POST", "/api/v1/observations"): {ADMIN},
    ("GET", "/api/v1/observations/rejects"): {ADMIN, COMMANDER, AUDITOR},
    ("GET", "/api/v1/crowd"): STAFF,
    ("GET", "/api/v1/crowd/{area_id}/series"): STAFF,
    ("POST", "/api/v1/crowd/{area_id}/counts"): COMMAND,
    ("POST", "/api/v1/sensors/{sensor_id}/fault"): COMMAND,
    ("GET", "/api/v1/alerts"): STAFF,
    ("GET", "/api/v1/alerts/{alert_id}"): STAFF,
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): COMMAND,
    ("POST", "/api/v1/alerts/{alert_id}/close"): COMMAND,
    ("POST", "/api/v1/plan-steps/{step_id}"): COMMAND | {FIELD_OFFICER, GUARD},
    # Community: residents file and follow only their own cases (checked in tests/community).
    ("POST", "/api/v1/community/communities"): COMMAND,
    ("GET", "/api/v1/community/communities"): WATCH | {FIELD_OFFICER},
    ("POST", "/api/v1/community/groups"): COMMAND,
    ("GET", "/api/v1/community/groups"): WATCH | {FIELD_OFFICER},
    ("GET", "/api/v1/community/coverage"): WATCH | {FIELD_OFFICER},
    ("POST", "/api/v1/community/cases"): COMMAND | {FIELD_OFFICER, RESIDENT},
    ("GET", "/api/v1/community/cases"): WATCH | {FIELD_OFFICER, RESIDENT},
    ("GET", "/api/v1/community/cases/{case_id}"): WATCH | {FIELD_OFFICER, RESIDENT},
    ("POST", "/api/v1/community/cases/{case_id}/triage"): COMMAND,
    ("POST", "/api/v1/community/cases/{case_id}/assign"): COMMAND,
    ("POST", "/api/v1/community/cases/{case_id}/actions"): COMMAND | {FIELD_OFFICER},
    ("POST", "/api/v1/community/cases/{case_id}/outcome"): COMMAND | {FIELD_OFFICER},
    ("POST", "/api/v1/community/cases/{case_id}/close"): COMMAND,
    ("POST", "/api/v1/community/cases/{case_id}/feedback"): COMMAND | {RESIDENT},
    ("POST", "/api/v1/community/reminders/run"): {ADMIN, COMMANDER},
    ("POST", "/api/v1/security/guards/{unit_id}/certificates"): {ADMIN, COMMANDER},
    ("GET", "/api/v1/security/guards/{unit_id}/certificates"): STAFF,
    ("POST", "/api/v1/security/joint-stations"): {ADMIN, COMMANDER},
    ("GET", "/api/v1/security/joint-stations"): STAFF,
    ("POST", "/api/v1/security/joint-stations/{joint_station_id}/members"): {ADMIN, COMMANDER},
    ("POST", "/api/v1/security/tasks"): COMMAND,
    ("GET", "/api/v1/security/tasks"): STAFF,
    ("POST", "/api/v1/security/training"): {ADMIN, COMMANDER},
    ("GET", "/api/v1/security/training"): STAFF,
    ("POST", "/api/v1/security/training/{session_id}/attendance"): {ADMIN, COMMANDER},
    ("GET", "/api/v1/security/training/report"): WATCH,
    # Notify: targets show secrets as their last four characters, still for keepers only.
    ("GET", "/api/v1/notify/targets"): {ADMIN, COMMANDER, AUDITOR},
    ("GET", "/api/v1/notify/deliveries"): WATCH,
    ("POST", "/api/v1/broadcasts"): COMMAND,
    ("GET", "/api/v1/broadcasts"): WATCH,
    ("GET", "/api/v1/broadcasts/{broadcast_id}"): WATCH,
    # The web pages hold no data (what they show comes from the API after the log-in).
    ("GET", "/"): PUBLIC,
    ("GET", "/field"): PUBLIC,
    ("GET", "/api/v1/dashboard/snapshot"): WATCH,
    ("GET", "/api/v1/dashboard/figures"): WATCH,
    ("GET", "/api/v1/field/assignment"): {FIELD_OFFICER, GUARD},
}

# Plausible values for path parameters, by name; ids that exist nowhere, so nothing changes.
# Every caller is the unit named here, so that checks of "a unit reports for itself" pass and
# the table is about roles alone.
PATH_VALUES = {
    "token_id": "999999",
    "sensor_id": "cam-broken-bridge-deck",
    "layer": "areas",
    "incident_id": "999999",
    "unit_id": "unit-1",
    "area_id": "broken-bridge",
    "alert_id": "999999",
    "step_id": "999999",
    "case_id": "999999",
    "joint_station_id": "no-such-station",
    "session_id": "999999",
    "broadcast_id": "999999",
}


def _served() -> set[tuple[str, str]]:
    return {(m, r.path) for r in api_routes(create_app(Settings())) for m in r.methods}


def test_every_route_is_in_the_table() -> None:
    served = _served()
    missing = sorted(served - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - served)
    lines = [f"    {key!r}: {{...}},  # who may call it?" for key in missing]
    lines += [f"    {key!r}  # no such route any more" for key in stale]
    assert not lines, "tests/api/test_rbac.py EXPECTED and the app disagree:\n" + "\n".join(lines)


def _url(path: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name not in PATH_VALUES:
            pytest.fail(f"add a plausible value for the path parameter {name!r} to PATH_VALUES")
        return PATH_VALUES[name]

    return re.sub(r"\{([^}]+)\}", value, path)


@pytest.fixture
def client(db_engine: Engine, database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client


def _verdict(expected: str | set[Role], caller: Role | None, status: int) -> str | None:
    """What is wrong with this cell, or None."""
    if expected == PUBLIC or (caller is not None and caller in expected):
        return None if status not in (401, 403) else f"refused ({status}) but should be allowed"
    want = 401 if caller is None else 403
    return None if status == want else f"answered {status}, should be {want}"


def test_every_role_on_every_route(client: TestClient, db_engine: Engine) -> None:
    callers: dict[Role | None, dict[str, str]] = {None: {}}
    for role in Role:
        callers[role] = login_headers(
            db_engine, role, unit_id=PATH_VALUES["unit_id"], scopes=sorted(KNOWN_SCOPES)
        )
    wrong = []
    for (method, path), expected in sorted(EXPECTED.items()):
        body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        for caller, headers in callers.items():
            response = client.request(method, _url(path), headers=headers, **body)
            problem = _verdict(expected, caller, response.status_code)
            if problem:
                wrong.append(f"{method} {path} as {caller or 'anonymous'}: {problem}")
    assert wrong == []
