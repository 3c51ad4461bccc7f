"""The tourist app's static files, each served by an explicit route under a strict Content-Security-Policy.

Like the dashboard, the files hold no data: the page logs in and reads the API with the tourist's own token.
It is a progressive web app: a manifest, and a service worker (scope ``/app/``) that keeps the files so the
app opens without a network.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from safesphere.auth.access import Public

STATIC_DIR = Path(__file__).parent / "static"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; manifest-src 'self'; worker-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""The dashboard's policy plus the app's own manifest and service worker; nothing from anywhere else."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate online; offline, the service worker answers from its cache.
    "Cache-Control": "no-cache",
}

ASSETS: dict[str, str] = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json",
    "icon.svg": "image/svg+xml",
}
"""Every file the page loads, by name, with its type; nothing else under /app is served."""

router = APIRouter(prefix="/app", tags=["tourist app"])


@cache
def _asset(name: str) -> bytes:
    """A file of ``static/``, read once (the names come from ``ASSETS``, never from a request)."""
    return (STATIC_DIR / name).read_bytes()


def _serve(name: str, media_type: str) -> Response:
    return Response(_asset(name), media_type=media_type, headers=SECURITY_HEADERS)


@router.get("", response_class=RedirectResponse, status_code=308, include_in_schema=False)
def app_root(_: Public) -> RedirectResponse:
    """``/app`` moves to ``/app/``, the service worker's scope."""
    return RedirectResponse("/app/", status_code=308)


@router.get("/", response_class=Response, responses={200: {"content": {"text/html": {}}}})
def app_page(_: Public) -> Response:
    """The tourist app: login or register, score, trend, map of nearby risks, SOS, contacts."""
    return _serve("index.html", "text/html; charset=utf-8")


def _asset_route(name: str, media_type: str) -> None:
    def serve(_: Public) -> Response:
        return _serve(name, media_type)

    serve.__doc__ = f"The tourist app's `{name}`."
    router.add_api_route(
        f"/{name}",
        serve,
        methods=["GET"],
        response_class=Response,
        responses={200: {"content": {media_type.split(";")[0]: {}}}},
        name=f"tourist_app_{name.replace('.', '_')}",
    )


for _name, _media_type in ASSETS.items():
    _asset_route(_name, _media_type)
