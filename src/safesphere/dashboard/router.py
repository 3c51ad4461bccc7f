"""The dashboard's static files, each served by an explicit route under a strict Content-Security-Policy.

The files hold no data: the page logs in and reads the API with the officer's own token, so serving them
needs no credentials.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from safesphere.auth.access import AuthorityUser, Public
from safesphere.core.dependencies import SettingsDep
from safesphere.core.errors import responses

STATIC_DIR = Path(__file__).parent / "static"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data: blob:; media-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Only our own script, styles and API; evidence images and clips as blob: URLs; no framing or inline code."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate every load, so an officer never runs yesterday's script against today's API.
    "Cache-Control": "no-cache",
}

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


@cache
def _asset(name: str) -> bytes:
    """A file of ``static/``, read once (the names come from the routes below, never from a request)."""
    return (STATIC_DIR / name).read_bytes()


def _serve(name: str, media_type: str) -> Response:
    return Response(_asset(name), media_type=media_type, headers=SECURITY_HEADERS)


@router.get("", response_class=Response, responses={200: {"content": {"text/html": {}}}})
def dashboard_page(_: Public) -> Response:
    """The dashboard page: login, incident list, map, statistics, alerts and incident detail."""
    return _serve("index.html", "text/html; charset=utf-8")


@router.get("/app.js", response_class=Response, responses={200: {"content": {"text/javascript": {}}}})
def dashboard_script(_: Public) -> Response:
    """The dashboard's script (vanilla JavaScript, no build step)."""
    return _serve("app.js", "text/javascript; charset=utf-8")


@router.get("/units.js", response_class=Response, responses={200: {"content": {"text/javascript": {}}}})
def dashboard_units_script(_: Public) -> Response:
    """The units panel, units on the map and the dispatch control's unit picker."""
    return _serve("units.js", "text/javascript; charset=utf-8")


@router.get("/casefile.js", response_class=Response, responses={200: {"content": {"text/javascript": {}}}})
def dashboard_casefile_script(_: Public) -> Response:
    """The incident detail's case file: the reports grouped under a case, or a report's case."""
    return _serve("casefile.js", "text/javascript; charset=utf-8")


@router.get("/app.css", response_class=Response, responses={200: {"content": {"text/css": {}}}})
def dashboard_styles(_: Public) -> Response:
    """The dashboard's styles."""
    return _serve("app.css", "text/css; charset=utf-8")


REPORT_ASSETS: dict[str, str] = {
    "charts.js": "text/javascript; charset=utf-8",
    "history.js": "text/javascript; charset=utf-8",
    "analytics.js": "text/javascript; charset=utf-8",
    "reports.css": "text/css; charset=utf-8",
}
"""The report panels' files (notifications history, response analytics), each its own explicit route."""


def _asset_route(name: str, media_type: str) -> None:
    def serve(_: Public) -> Response:
        return _serve(name, media_type)

    serve.__doc__ = f"The dashboard's `{name}`."
    router.add_api_route(
        f"/{name}",
        serve,
        methods=["GET"],
        response_class=Response,
        responses={200: {"content": {media_type.split(";")[0]: {}}}},
        name=f"dashboard_{name.replace('.', '_')}",
    )


for _name, _media_type in REPORT_ASSETS.items():
    _asset_route(_name, _media_type)


class CityOut(BaseModel):
    lat: float
    lon: float
    radius_km: float


class DashboardSettingsOut(BaseModel):
    city: CityOut | None


@router.get("/settings", response_model=DashboardSettingsOut, responses=responses(401, 403))
def dashboard_settings(settings: SettingsDep, _: AuthorityUser) -> DashboardSettingsOut:
    """What the page needs of the server's configuration: the city its map shows when nothing is active
    (``SAFESPHERE_DASHBOARD_CITY_LAT``/``_LON``/``_RADIUS_KM``; null when not set)."""
    lat, lon = settings.dashboard_city_lat, settings.dashboard_city_lon
    city = (
        None
        if lat is None or lon is None
        else CityOut(lat=lat, lon=lon, radius_km=settings.dashboard_city_radius_km)
    )
    return DashboardSettingsOut(city=city)
