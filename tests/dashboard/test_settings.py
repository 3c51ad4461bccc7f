"""``GET /dashboard/settings``: the city the map falls back to, for authorities only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import Factory

CITY = {"dashboard_city_lat": 41.3874, "dashboard_city_lon": 2.1686, "dashboard_city_radius_km": 3.0}


def test_without_a_city_the_setting_is_null(client: TestClient, factory: Factory) -> None:
    response = client.get("/dashboard/settings", headers=factory.authority().headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"city": None}


@pytest.mark.parametrize("settings_overrides", [CITY])
def test_the_configured_city_reaches_authorities_only(client: TestClient, factory: Factory) -> None:
    response = client.get("/dashboard/settings", headers=factory.authority().headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"city": {"lat": 41.3874, "lon": 2.1686, "radius_km": 3.0}}
    assert client.get("/dashboard/settings", headers=factory.tourist().headers).status_code == 403
    assert client.get("/dashboard/settings").status_code == 401
