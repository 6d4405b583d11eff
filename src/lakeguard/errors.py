"""What went wrong, said one way: domain errors that carry their HTTP status and title.

Services and engines raise these; one handler in ``api/problems.py`` turns them into RFC 9457
problem documents, so views hold no error mapping. Anything else that escapes a request is a
bug and answers 500, whatever its Python type.

One status per kind: a missing resource named by the path is 404; a request that names
something unknown or breaks a rule of the input is 422; an action that does not fit the present
state (an illegal transition, a duplicate, a step already done) is 409.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A failure the caller can act on; ``extra`` adds members to the problem document."""

    status: int = 400
    title: str = "Bad request"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError, LookupError):
    """The resource the request names does not exist."""

    status = 404
    title = "Not found"


class Conflict(DomainError):
    """The action does not fit the present state: an illegal move, a duplicate, a repeat."""

    status = 409
    title = "Conflict"


class Invalid(DomainError, ValueError):
    """The request breaks a rule of the input or names something unknown."""

    status = 422
    title = "Invalid request"


class Unauthorized(DomainError):
    """No credentials, or credentials that do not hold."""

    status = 401
    title = "Unauthorized"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status = 403
    title = "Forbidden"


class TooLarge(DomainError):
    """The request is bigger than the server accepts."""

    status = 413
    title = "Too large"


class Unavailable(DomainError):
    """The server cannot serve this yet (no venue loaded, a part not running)."""

    status = 503
    title = "Unavailable"


class Misconfigured(DomainError):
    """The server's own configuration is wrong; the operator, not the caller, must act."""

    status = 500
    title = "Bad configuration"
