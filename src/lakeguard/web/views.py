"""The dashboard (``/``) and the field view (``/field``): static pages and their reads.

The pages are public (they hold no data; everything they show comes from the API after the
log-in). Front-end libraries are served under ``/vendor`` from the files a built wheel carries,
or from ``node_modules`` in a checkout (``vendor.py``); nothing third-party is kept in the
repository.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from lakeguard.api.deps import CurrentVenue, DbSession, Now, State, unit_of_work
from lakeguard.auth.policy import FieldUser, Watcher, public
from lakeguard.errors import Conflict
from lakeguard.forces import service as units
from lakeguard.forces.engine import post_locations
from lakeguard.incidents import queries
from lakeguard.store.outbox import head_seq
from lakeguard.web import dashboard, field
from lakeguard.web.models import FiguresRead, MyAssignmentRead, SnapshotRead
from lakeguard.web.vendor import VendorFiles, vendor_dir

HERE = Path(__file__).parent
STATIC = HERE / "static"
VENDOR = vendor_dir()

pages = APIRouter(include_in_schema=False, dependencies=[Depends(public())])
router = APIRouter(prefix="/api/v1", tags=["dashboard"])


class NoUnit(Conflict):
    title = "No unit"


_MISSING_VENDOR = """<!doctype html><meta charset="utf-8"><title>LakeGuard</title>
<p>The dashboard's front-end libraries are not installed. Run <code>make demo</code> (or
<code>npm ci</code> in <code>src/lakeguard/web</code>), or install LakeGuard from a built wheel,
which carries them; then reload this page.</p>"""


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
) -> SnapshotRead:
    return dashboard.snapshot(session, state, venue, now)


@router.get("/dashboard/figures", summary="Today's header figures")
def read_figures(
    who: Watcher, venue: CurrentVenue, state: State, session: DbSession, now: Now
) -> FiguresRead:
    return dashboard.figures(session, state, venue, now)


@router.get("/field/assignment", summary="My unit and the assignment it is working now")
def read_my_assignment(
    who: FieldUser, venue: CurrentVenue, state: State, session: DbSession, now: Now
) -> MyAssignmentRead:
    if who.unit_id is None:
        raise NoUnit("this account is not linked to a unit; ask an admin")
    unit = units.get_unit(session, unit_id=who.unit_id)
    seq = head_seq(session)
    posts = post_locations(venue.scenario.posts)
    read = units.unit_read(unit, posts, now, state.settings.position_max_age_s)
    with unit_of_work(session):
        current = queries.current_assignment(session, unit_id=unit.id)
        body = None if current is None else field.assignment_read(session, venue, who, current)
    return MyAssignmentRead(seq=seq, unit=dashboard.board_unit(read), assignment=body)


def mount_web(app: FastAPI) -> None:
    """Add the pages, the dashboard's reads and the static files to the app."""
    app.include_router(pages)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # check_dir off: without the libraries the pages and /vendor say what to install instead.
    app.mount("/vendor", VendorFiles(directory=VENDOR, check_dir=False), name="vendor")
