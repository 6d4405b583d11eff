"""The interactive API docs at ``/docs``: Swagger UI from the package, so no internet is needed.

FastAPI's own page loads Swagger UI from a CDN, which an isolated police network cannot reach;
here its script, style and icon come from ``/vendor`` (npm's ``swagger-ui-dist``, packed into
the wheel with the dashboard's libraries). ReDoc, another CDN page, is off.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
SWAGGER_UI = "/vendor/swagger-ui-dist"


def mount_docs(app: FastAPI) -> None:
    """Add ``/docs`` and its OAuth2 redirect page (the app is made with ``docs_url=None``)."""
    openapi_url = app.openapi_url or "/openapi.json"

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - API docs",
            swagger_js_url=f"{root}{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=f"{root}{SWAGGER_UI}/favicon-32x32.png",
            oauth2_redirect_url=root + OAUTH2_REDIRECT_URL,
        )

    async def oauth2_redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_route(DOCS_URL, swagger_ui, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT_URL, oauth2_redirect, include_in_schema=False)
