"""The access matrix: every route declares exactly one access rule, the rule is the expected one, and
anonymous callers, tourists, authorities, admins and engine keys get 401/403/through on every route."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Route, compile_path

from tests.factories import Factory

EXPECTED_RULES: dict[tuple[str, str], str] = {
    ("GET", "/health"): "public",
    ("GET", "/metrics"): "admin_or_metrics_token",
    ("POST", "/auth/register"): "public",
    ("POST", "/auth/login"): "public",
    ("POST", "/auth/password"): "user",
    ("POST", "/auth/token"): "public",
    ("GET", "/auth/me"): "user",
    ("POST", "/admin/users"): "admin",
    ("GET", "/admin/users"): "admin",
    ("PATCH", "/admin/users/{user_id}"): "admin",
    ("POST", "/admin/keys"): "admin",
    ("GET", "/admin/keys"): "admin",
    ("DELETE", "/admin/keys/{name}"): "admin",
    ("GET", "/admin/audit"): "admin",
    ("POST", "/incidents/{incident_id}/legal-hold"): "admin",
    ("DELETE", "/incidents/{incident_id}/legal-hold"): "admin",
    ("POST", "/threats/report"): "engine",
    ("GET", "/incidents"): "authority",
    ("GET", "/incidents/{incident_id}"): "authority",
    ("GET", "/incidents/threat_level/{level}"): "authority",
    ("GET", "/statistics"): "authority",
    ("GET", "/statistics/hourly"): "authority",
    ("POST", "/upload/screenshot"): "engine_or_authority",
    ("POST", "/upload/clip"): "engine_or_authority",
    ("GET", "/incidents/{incident_id}/evidence"): "authority",
    ("GET", "/evidence/{evidence_id}"): "authority",
    ("GET", "/places/safe-route"): "user",
    ("GET", "/places/export.geojson"): "user",
    ("POST", "/places/import"): "authority",
    ("POST", "/places"): "authority",
    ("GET", "/places"): "user",
    ("GET", "/places/{place_id}"): "user",
    ("PATCH", "/places/{place_id}"): "authority",
    ("DELETE", "/places/{place_id}"): "authority",
    ("POST", "/location/update"): "tourist",
    ("GET", "/location/history"): "tourist",
    ("GET", "/location/safety-trend"): "tourist",
    ("GET", "/location/safety-analysis"): "tourist",
    ("GET", "/location/nearby-risks"): "tourist",
    ("GET", "/safety/score"): "tourist",
    ("POST", "/sos"): "tourist",
    ("GET", "/me/profile"): "tourist",
    ("PUT", "/me/profile"): "tourist",
    ("GET", "/me/contacts"): "tourist",
    ("POST", "/me/contacts"): "tourist",
    ("DELETE", "/me/contacts/{contact_id}"): "tourist",
    ("GET", "/me/export"): "tourist",
    ("DELETE", "/me"): "tourist",
    ("GET", "/authority/tourists"): "authority",
    ("GET", "/authority/tourists/{tourist_id}"): "authority",
    ("GET", "/authority/tourists/{tourist_id}/locations"): "authority",
    ("GET", "/zones/export.geojson"): "authority",
    ("POST", "/zones/import"): "authority",
    ("POST", "/zones"): "authority",
    ("GET", "/zones"): "authority",
    ("GET", "/zones/{zone_id}"): "authority",
    ("PATCH", "/zones/{zone_id}"): "authority",
    ("DELETE", "/zones/{zone_id}"): "authority",
    ("GET", "/units"): "authority",
    ("POST", "/units"): "authority",
    ("GET", "/units/{unit_id}"): "authority",
    ("PATCH", "/units/{unit_id}"): "authority",
    ("DELETE", "/units/{unit_id}"): "authority",
    ("GET", "/alerts"): "authority",
    ("POST", "/alerts/{alert_id}/acknowledge"): "authority",
    ("POST", "/alerts/{alert_id}/resolve"): "authority",
    ("POST", "/incidents/{incident_id}/acknowledge"): "authority",
    ("POST", "/incidents/{incident_id}/dispatch"): "authority",
    ("POST", "/incidents/{incident_id}/resolve"): "authority",
    ("POST", "/incidents/{incident_id}/notes"): "authority",
    ("GET", "/incidents/{incident_id}/timeline"): "authority",
    ("GET", "/incidents/{incident_id}/safe-route"): "authority",
    ("GET", "/share/{token}"): "public",
    ("GET", "/share/{token}/map"): "public",
    ("GET", "/me/alerts"): "tourist",
    ("GET", "/devices/commands"): "engine",
    ("POST", "/devices/commands/{command_id}/ack"): "engine",
    ("GET", "/admin/channels"): "admin",
    ("POST", "/admin/channels"): "admin",
    ("PATCH", "/admin/channels/{channel_id}"): "admin",
    ("DELETE", "/admin/channels/{channel_id}"): "admin",
    ("GET", "/deliveries"): "authority",
    ("GET", "/deliveries/{delivery_id}"): "authority",
    ("GET", "/live/events"): "authority",
    ("GET", "/dashboard"): "public",
    ("GET", "/dashboard/app.js"): "public",
    ("GET", "/dashboard/app.css"): "public",
    ("GET", "/dashboard/charts.js"): "public",
    ("GET", "/dashboard/history.js"): "public",
    ("GET", "/dashboard/analytics.js"): "public",
    ("GET", "/dashboard/reports.css"): "public",
    ("GET", "/dashboard/units.js"): "public",
    ("GET", "/dashboard/casefile.js"): "public",
    ("GET", "/push/key"): "public",
    ("POST", "/me/push-subscriptions"): "tourist",
    ("GET", "/me/push-subscriptions"): "tourist",
    ("POST", "/me/push-subscriptions/remove"): "tourist",
    ("GET", "/app"): "public",
    ("GET", "/app/"): "public",
    ("GET", "/app/app.js"): "public",
    ("GET", "/app/app.css"): "public",
    ("GET", "/app/sw.js"): "public",
    ("GET", "/app/manifest.webmanifest"): "public",
    ("GET", "/app/icon.svg"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/docs/swagger-ui-bundle.js"): "public",
    ("GET", "/docs/swagger-ui.css"): "public",
    ("GET", "/docs/init.js"): "public",
    ("GET", "/docs/favicon.png"): "public",
    ("GET", "/redoc"): "public",
    ("GET", "/redoc/redoc.standalone.js"): "public",
    ("GET", "/dashboard/settings"): "authority",
}
"""Every API route of the app and who may call it. A new route fails the suite until it is listed here."""

FRAMEWORK_ROUTES = {("GET", "/openapi.json")}
"""FastAPI's own schema: public, and the only route without an access dependency."""

ALLOWED: dict[str, set[str]] = {
    "public": {"anonymous", "tourist", "authority", "admin", "engine", "engine_api_key"},
    "user": {"tourist", "authority", "admin"},
    "tourist": {"tourist"},
    "authority": {"authority", "admin"},
    "admin": {"admin"},
    "engine": {"engine", "engine_api_key"},
    "engine_or_authority": {"engine", "engine_api_key", "authority", "admin"},
    "admin_or_metrics_token": {"admin"},
}
PRINCIPALS = ("anonymous", "tourist", "authority", "admin", "engine", "engine_api_key")

PATH_SAMPLES = {
    "incident_id": "INC_ACCESS_1",
    "level": "LOW",
    "evidence_id": "1",
    "name": "no-such-key",
    "place_id": "1",
    "contact_id": "1",
    "tourist_id": "1",
    "zone_id": "1",
    "alert_id": "1",
    "unit_id": "1",
    "user_id": "999999",
    "channel_id": "1",
    "command_id": "1",
    "token": "not-a-real-share-token-000000",
    "delivery_id": "1",
}
"""A value for each path parameter, so every route can be called."""


def _rules(dependant: Dependant) -> Iterator[str]:
    """The access rules a route declares: the outermost ``access_rule`` on each dependency path."""
    for dependency in dependant.dependencies:
        rule = getattr(dependency.call, "access_rule", None)
        if rule is not None:
            yield rule
        else:
            yield from _rules(dependency)


def _routes(app: FastAPI) -> Iterator[tuple[str, str, Route]]:
    """(method, full path, route) for every route, including those of included routers."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Route) and context.path is not None:
            path = compile_path(context.path)[1]  # /zones/{zone_id:int} as /zones/{zone_id}
            for method in sorted((context.methods or set()) - {"HEAD"}):
                yield method, path, route


def test_every_route_declares_exactly_its_expected_access_rule(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    declared: dict[tuple[str, str], str] = {}
    framework: set[tuple[str, str]] = set()
    for method, path, route in _routes(app):
        if not isinstance(route, APIRoute):
            framework.add((method, path))
            continue
        rules = list(_rules(route.dependant))
        assert len(rules) == 1, f"{method} {path} declares {rules or 'no'} access rules; it needs exactly one"
        declared[(method, path)] = rules[0]
    assert declared == EXPECTED_RULES
    assert framework == FRAMEWORK_ROUTES


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """A live stream that lets the authority's call to it finish."""
    return {"live_stream_s": 0.05}


@pytest.fixture
def credentials(factory: Factory) -> dict[str, dict[str, str]]:
    engine = factory.engine_key(name="cam-access")
    return {
        "anonymous": {},
        "tourist": factory.tourist().headers,
        "authority": factory.authority().headers,
        "admin": factory.admin().headers,
        "engine": engine.headers,
        "engine_api_key": {"X-API-Key": engine.key},
    }


def _url(path: str) -> str:
    def sample(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in PATH_SAMPLES, f"add a sample value for path parameter {name!r}"
        return PATH_SAMPLES[name]

    return re.sub(r"\{(\w+)\}", sample, path)


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_each_principal_gets_through_only_where_the_rule_allows(
    client: TestClient, credentials: dict[str, dict[str, str]], principal: str
) -> None:
    outcomes: dict[tuple[str, str], Any] = {}
    for (method, path), rule in EXPECTED_RULES.items():
        response = client.request(method, _url(path), headers=credentials[principal])
        if principal in ALLOWED[rule]:
            expected: Any = "through"
            got: Any = "through" if response.status_code not in (401, 403) else response.status_code
            assert response.status_code < 500, (method, path, response.text)
        else:
            expected = 401 if principal == "anonymous" else 403
            got = response.status_code
            if got == 401:
                assert response.json() == {"detail": "Not authenticated"}
        outcomes[(method, path)] = (expected, got)
    wrong = {route: outcome for route, outcome in outcomes.items() if outcome[0] != outcome[1]}
    assert wrong == {}, f"{principal}: (expected, got) per route"


def test_every_guarded_route_documents_401_and_403(client: TestClient) -> None:
    """A route behind a rule answers 401 without credentials and 403 with the wrong ones (an engine key
    where a user is needed, a tourist where an authority is): its OpenAPI says so."""
    app: FastAPI = client.app  # type: ignore[assignment]
    operations = app.openapi()["paths"]
    undocumented = {}
    for method, path, route in _routes(app):
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        if list(_rules(route.dependant)) == ["public"]:
            continue
        documented = set(operations[path][method.lower()]["responses"])
        if missing := {"401", "403"} - documented:
            undocumented[(method, path)] = sorted(missing)
    assert undocumented == {}
