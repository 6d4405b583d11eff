"""The FastAPI application."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, Field

from lakeguard import __version__
from lakeguard.api import history, stream
from lakeguard.api.collector import server_collector
from lakeguard.api.crowd_clock import running_crowd_clock
from lakeguard.api.docs import mount_docs
from lakeguard.api.problems import PROBLEM_RESPONSES, install_problem_handlers, problem_openapi
from lakeguard.api.relay import running_relay
from lakeguard.api.state import ActiveVenue, AppState
from lakeguard.auth import views as auth_views
from lakeguard.auth.middleware import AuditWrites
from lakeguard.auth.policy import assert_every_route_has_a_policy, public
from lakeguard.clock import Clock, IsoTime, clock_from_settings
from lakeguard.community import views as community_views
from lakeguard.config import Settings
from lakeguard.crowd import views as crowd_views
from lakeguard.crowd.cycle import CrowdRuntime
from lakeguard.forces import views as forces_views
from lakeguard.incidents import views as incident_views
from lakeguard.ingest import views as ingest_views
from lakeguard.ingest.mqtt import running_subscriber
from lakeguard.ingest.service import Ingestor
from lakeguard.notify import views as notify_views
from lakeguard.notify.worker import running_notifier
from lakeguard.patrol import views as patrol_views
from lakeguard.security import views as security_views
from lakeguard.store.session import make_engine, make_sessionmaker
from lakeguard.venue import views as venue_views
from lakeguard.venue.service import VenueNotFound
from lakeguard.web.views import mount_web

log = logging.getLogger(__name__)


class HealthRead(BaseModel):
    status: Literal["ok"]
    version: str


class VenueClockRead(BaseModel):
    now: IsoTime
    kind: str = Field(description="wall, scaled or manual")
    speed: float = Field(description="venue seconds per wall second (0: moves only when set)")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The API with its routers; the active venue is read from the database at start-up.

    ``clock`` overrides the venue clock the settings describe (an embedded twin passes its own).
    """
    settings = settings or Settings()
    venue_clock = clock or clock_from_settings(settings.clock_start, settings.clock_speed)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.bus_url.startswith("memory://"):
            # Refuse rather than quietly fall back: several processes on an in-process bus
            # would each see only their own events.
            raise RuntimeError(
                f"LAKEGUARD_BUS_URL={settings.bus_url}: only the in-process bus (memory://) "
                "exists yet; the NATS bus is still to be written"
            )
        engine = make_engine(settings.effective_database_url)
        state = AppState(settings, engine, make_sessionmaker(engine), clock=venue_clock)
        try:
            state.venue = ActiveVenue.from_database(state.sessions)
            state.crowd = CrowdRuntime(
                state.venue.context,
                state.sessions,
                max_age_s=settings.position_max_age_s,
                clock=venue_clock,
            )
            # Ingest commits in worker threads; wake the relay on the loop that runs it.
            loop = asyncio.get_running_loop()

            def wake() -> None:
                loop.call_soon_threadsafe(state.outbox_written.set)

            state.crowd.wake = wake
            state.ingest = Ingestor(state.venue.scenario, state.crowd)
        except VenueNotFound as exc:
            log.warning("%s", exc)
        app.state.lakeguard = state
        async with (
            running_relay(state),
            running_crowd_clock(state),
            running_subscriber(state) as subscriber,
            running_notifier(state) as notifier,
        ):
            app.state.mqtt = subscriber  # None when MQTT is off
            app.state.notifier = notifier  # None when no notify target is configured
            with server_collector():  # the start-up heap is built: see api/collector.py
                yield
        state.bus.close()
        engine.dispose()

    app = FastAPI(
        title="LakeGuard",
        version=__version__,
        description="Command platform for public safety in scenic areas, parks and events.",
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
        docs_url=None,  # mount_docs: Swagger UI from the package, not a CDN
        redoc_url=None,
    )
    install_problem_handlers(app)
    app.add_middleware(AuditWrites)
    app.include_router(venue_views.router)
    app.include_router(auth_views.auth_router)
    app.include_router(auth_views.users_router)
    app.include_router(auth_views.audit_router)
    app.include_router(incident_views.router)
    app.include_router(forces_views.router)
    app.include_router(ingest_views.router)
    app.include_router(crowd_views.router)
    app.include_router(community_views.router)
    app.include_router(security_views.router)
    app.include_router(notify_views.router)
    app.include_router(patrol_views.router)
    app.include_router(stream.router)
    mount_web(app)  # the dashboard and field pages, their reads, their static files
    mount_docs(app)  # /docs, loading Swagger UI from the static files mount_web serves
    app.include_router(history.router)

    @app.middleware("http")
    async def wake_relay_after_writes(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            request.app.state.lakeguard.outbox_written.set()
        return response

    @app.get("/api/v1/health", tags=["system"], dependencies=[Depends(public())])
    def health() -> HealthRead:
        return HealthRead(status="ok", version=__version__)

    @app.get("/api/v1/clock", tags=["system"], dependencies=[Depends(public())])
    def read_clock(request: Request) -> VenueClockRead:
        """The venue's time: the wall clock, or a twin's when one drives the platform."""
        venue_clock = request.app.state.lakeguard.clock
        return VenueClockRead(now=venue_clock.now(), kind=venue_clock.kind, speed=venue_clock.speed)

    assert_every_route_has_a_policy(app)
    problem_openapi(app)
    return app
