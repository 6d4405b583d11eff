"""The FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from lakeguard import __version__
from lakeguard.api.problems import install_problem_handlers
from lakeguard.api.state import ActiveVenue, AppState
from lakeguard.config import Settings
from lakeguard.store.session import make_engine, make_sessionmaker
from lakeguard.venue import views as venue_views
from lakeguard.venue.service import VenueNotFound

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API with its routers; the active venue is read from the database at start-up."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.effective_database_url)
        state = AppState(settings, engine, make_sessionmaker(engine))
        try:
            state.venue = ActiveVenue.from_database(state.sessions)
        except VenueNotFound as exc:
            log.warning("%s", exc)
        app.state.lakeguard = state
        yield
        engine.dispose()

    app = FastAPI(
        title="LakeGuard",
        version=__version__,
        description="Command platform for public safety in scenic areas, parks and events.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(venue_views.router)

    @app.get("/api/v1/health", tags=["system"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
