"""Request dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from lakeguard.api.problems import ProblemError
from lakeguard.api.state import ActiveVenue, AppState


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.lakeguard
    return state


def _session(request: Request) -> Iterator[Session]:
    with _state(request).sessions() as session:
        yield session


def _venue(request: Request) -> ActiveVenue:
    venue = _state(request).venue
    if venue is None:
        raise ProblemError(
            503, "No venue loaded", "load a scenario with `lakeguard venue load`, then restart"
        )
    return venue


State = Annotated[AppState, Depends(_state)]
DbSession = Annotated[Session, Depends(_session)]
CurrentVenue = Annotated[ActiveVenue, Depends(_venue)]
