"""The named role groups: one set per name, the same in the dashboard's scripts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import lakeguard
from lakeguard.auth import roles
from lakeguard.auth.roles import (
    COMMAND,
    FIELD,
    LEADERSHIP,
    OVERSIGHT,
    RESPONSE,
    STAFF,
    USER_ROLES,
    WATCH,
    Role,
)

DASHBOARD_JS = Path(lakeguard.__file__).parent / "web" / "static" / "js" / "dashboard.js"


def test_the_groups_hold_the_roles_the_readme_lists() -> None:
    assert {Role.ADMIN, Role.COMMANDER, Role.DISPATCHER} == COMMAND
    assert {Role.ADMIN, Role.COMMANDER} == LEADERSHIP
    assert COMMAND | {Role.AUDITOR} == WATCH
    assert {Role.ADMIN, Role.COMMANDER, Role.AUDITOR} == OVERSIGHT
    assert {Role.FIELD_OFFICER, Role.GUARD} == FIELD
    assert COMMAND | FIELD == RESPONSE
    assert set(USER_ROLES) - {Role.RESIDENT} == STAFF


@pytest.mark.parametrize("name", ["COMMAND", "LEADERSHIP", "WATCH", "OVERSIGHT", "FIELD", "STAFF"])
def test_no_group_opens_a_route_to_devices_or_residents(name: str) -> None:
    group: frozenset[Role] = getattr(roles, name)
    assert not group & {Role.DEVICE, Role.RESIDENT}


def _js_group(name: str, source: str) -> set[str]:
    """The roles of ``const NAME = [...]`` in a script, following ``...OTHER`` spreads."""
    found = re.search(rf"const {name} = \[(.*?)\];", source)
    assert found is not None, f"dashboard.js no longer defines {name}"
    members: set[str] = set()
    for item in (part.strip() for part in found.group(1).split(",")):
        if item.startswith("..."):
            members |= _js_group(item[3:], source)
        else:
            members.add(item.strip("\"'"))
    return members


@pytest.mark.parametrize("name", ["COMMAND", "WATCH", "FIELD"])
def test_the_dashboard_means_the_same_roles_by_a_group_name(name: str) -> None:
    source = DASHBOARD_JS.read_text(encoding="utf-8")
    assert _js_group(name, source) == {str(role) for role in getattr(roles, name)}
