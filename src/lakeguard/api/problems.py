"""Errors as RFC 9457 problem details (``application/problem+json``), answered in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from lakeguard.errors import DomainError

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem document; some problems add members (``field``, ``errors``…)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="a URI for the kind of problem")
    title: str = Field(description="a short summary of the kind of problem")
    status: int = Field(description="the HTTP status code")
    detail: str | None = Field(None, description="what went wrong this time")


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem}


# Every operation may answer these; declared once so the OpenAPI document shows their shape.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": _problem_response("The request cannot be served as it stands (a problem document)"),
    "5XX": _problem_response("The server failed or is not ready (a problem document)"),
}


def problem_openapi(app: FastAPI) -> None:
    """Show the problem responses as ``application/problem+json``, the type they are sent as.

    FastAPI files a response model under the route's own media type (``application/json``);
    the document is patched once, when it is first built.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            for operation in _operations(document):
                for code in PROBLEM_RESPONSES:
                    content = operation["responses"].get(str(code), {}).get("content", {})
                    if "application/json" in content:
                        content[PROBLEM_JSON] = content.pop("application/json")
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for path in document.get("paths", {}).values() for op in path.values()]


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    """A problem-details response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error, ours or the framework's, as problem details."""

    @app.exception_handler(DomainError)
    async def _ours(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        # Anything that is not a DomainError is a bug, whatever its type: never the caller's
        # fault. Starlette logs it and re-raises after this answer.
        return problem(500, "Internal server error")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        return problem(422, "Invalid request", f"invalid fields: {fields}", errors=errors)
