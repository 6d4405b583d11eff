"""The dashboard (``/``) and the field view (``/field``): static pages and their reads.

The pages are public (they hold no data; everything they show comes from the API after the
log-in). Front-end libraries are served from ``node_modules`` next to this file, where
``make`` installs them with npm; nothing third-party is kept in the repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from lakeguard.api.deps import CurrentVenue, DbSession, Now, State, unit_of_work
from lakeguard.api.problems import ProblemError
from lakeguard.auth.policy import FieldUser, Watcher, public
from lakeguard.forces import service as units
from lakeguard.forces.engine import post_locations
from lakeguard.forces.views import unit_read
from lakeguard.web import dashboard, field

HERE = Path(__file__).parent
STATIC = HERE / "static"
VENDOR = HERE / "node_modules"

pages = APIRouter(include_in_schema=False, dependencies=[Depends(public())])
router = APIRouter(prefix="/api/v1", tags=["dashboard"])


_MISSING_VENDOR = """<!doctype html><meta charset="utf-8"><title>LakeGuard</title>
<p>The dashboard's front-end libraries are not installed. Run <code>make demo</code> (or
<code>npm ci</code> in <code>src/lakeguard/web</code>), then reload this page.</p>"""


def _page(name: str) -> Response:
    if not VENDOR.is_dir():
        return HTMLResponse(_MISSING_VENDOR, status_code=503)
    # The pages change with each release and are tiny: never cache them.
    return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})


@pages.get("/")
def dashboard_page() -> Response:
    return _page("index.html")


@pages.get("/field")
def field_page() -> Response:
    return _page("field.html")


@router.get("/dashboard/snapshot", summary="The command room now, with its sequence number")
def read_snapshot(
    who: Watcher, venue: CurrentVenue, state: State, session: DbSession, now: Now
) -> dict[str, Any]:
    return dashboard.snapshot(session, state, venue, now)


@router.get("/dashboard/figures", summary="Today's header figures")
def read_figures(
    who: Watcher, venue: CurrentVenue, state: State, session: DbSession, now: Now
) -> dict[str, Any]:
    return dashboard.figures(session, state, venue, now)


@router.get("/field/assignment", summary="My unit and the assignment it is working now")
def read_my_assignment(
    who: FieldUser, venue: CurrentVenue, state: State, session: DbSession, now: Now
) -> dict[str, Any]:
    if who.unit_id is None:
        raise ProblemError(409, "No unit", "this account is not linked to a unit; ask an admin")
    try:
        unit = units.get_unit(session, unit_id=who.unit_id)
    except units.UnitNotFound as exc:
        raise ProblemError(404, "Unit not found", str(exc)) from exc
    seq = dashboard.head_seq(session)
    posts = post_locations(venue.scenario.posts)
    read = unit_read(unit, posts, now, state.settings.position_max_age_s)
    with unit_of_work(session):
        current = field.current_assignment(session, unit_id=unit.id)
        body = None if current is None else field.assignment_json(session, venue, who, current, now)
    return {"seq": seq, "unit": dashboard.unit_json(read), "assignment": body}


def mount_web(app: FastAPI) -> None:
    """Add the pages, the dashboard's reads and the static files to the app."""
    app.include_router(pages)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # check_dir off: without the npm install the pages say what to run instead of failing here.
    app.mount("/vendor", StaticFiles(directory=VENDOR, check_dir=False), name="vendor")
