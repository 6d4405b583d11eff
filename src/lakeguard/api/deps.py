"""Request dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from lakeguard.api.state import ActiveVenue, AppState
from lakeguard.errors import Unavailable


class NoVenueLoaded(Unavailable):
    title = "No venue loaded"


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.lakeguard
    return state


def _session(request: Request) -> Iterator[Session]:
    with _state(request).sessions() as session:
        yield session


def _venue(request: Request) -> ActiveVenue:
    venue = _state(request).venue
    if venue is None:
        raise NoVenueLoaded("load a scenario with `lakeguard venue load`, then restart")
    return venue


def _venue_now(request: Request) -> datetime:
    return _state(request).clock.now()


State = Annotated[AppState, Depends(_state)]
# The venue's time for this request: the wall clock, or a twin's clock when one runs.
Now = Annotated[datetime, Depends(_venue_now)]
DbSession = Annotated[Session, Depends(_session)]
CurrentVenue = Annotated[ActiveVenue, Depends(_venue)]


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Commit the request's writes at the end of the block, or roll them all back.

    The request's session may already be in a transaction (authentication reads through it),
    so this commits whatever is open rather than starting a new one.
    """
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
