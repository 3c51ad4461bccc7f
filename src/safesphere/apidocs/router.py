"""``/docs`` (Swagger UI) and ``/redoc`` served from files shipped in the ``fastapi-offline`` package:
no CDN, so the pages work offline and run under a Content-Security-Policy that allows only our own origin.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import Response

from safesphere.auth.access import Public

ASSETS = files("fastapi_offline") / "static"
"""Swagger UI 5 and Redoc dist files (Apache-2.0 and MIT, licences in the fastapi-offline package)."""

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
    "img-src 'self' data:; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
"""Our scripts only (no inline code); Swagger and Redoc set inline styles; Redoc runs a blob: worker."""

PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
ASSET_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "public, max-age=86400"}

SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SafeSphere API - Swagger UI</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"><link rel="icon" href="/docs/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>
"""

SWAGGER_INIT = """SwaggerUIBundle({
  url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, showExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout"
});
"""

REDOC_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SafeSphere API - ReDoc</title>
<link rel="icon" href="/docs/favicon.png"></head>
<body><redoc spec-url="/openapi.json"></redoc><script src="/redoc/redoc.standalone.js"></script></body></html>
"""

router = APIRouter(tags=["docs"], include_in_schema=False)


@cache
def _asset(name: str) -> bytes:
    """A file of the package's ``static/``, read once (names come from the routes, never a request)."""
    return (ASSETS / name).read_bytes()


def _page(text: str) -> Response:
    return Response(text, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


def _file(content: bytes | str, media_type: str) -> Response:
    return Response(content, media_type=media_type, headers=ASSET_HEADERS)


@router.get("/docs")
def swagger_page(_: Public) -> Response:
    """The interactive API documentation."""
    return _page(SWAGGER_PAGE)


@router.get("/docs/swagger-ui-bundle.js")
def swagger_script(_: Public) -> Response:
    return _file(_asset("swagger-ui-bundle.js"), "text/javascript; charset=utf-8")


@router.get("/docs/swagger-ui.css")
def swagger_styles(_: Public) -> Response:
    return _file(_asset("swagger-ui.css"), "text/css; charset=utf-8")


@router.get("/docs/init.js")
def swagger_init(_: Public) -> Response:
    return _file(SWAGGER_INIT, "text/javascript; charset=utf-8")


@router.get("/docs/favicon.png")
def docs_icon(_: Public) -> Response:
    return _file(_asset("favicon.png"), "image/png")


@router.get("/redoc")
def redoc_page(_: Public) -> Response:
    """The API reference as one page."""
    return _page(REDOC_PAGE)


@router.get("/redoc/redoc.standalone.js")
def redoc_script(_: Public) -> Response:
    return _file(_asset("redoc.standalone.js"), "text/javascript; charset=utf-8")
