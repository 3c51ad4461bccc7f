"""Every answer says nosniff, personal ones no-store; /docs runs offline under a CSP (issue 16, item 5)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.factories import PASSWORD, Factory
from tests.support.browser import severe_console_entries, start_chromium
from tests.support.live import LiveServer


def test_every_answer_carries_nosniff_and_personal_ones_no_store(
    client: TestClient, factory: Factory
) -> None:
    tourist = factory.tourist()
    answers = {
        "login": client.post("/auth/login", json={"email": tourist.user.email, "password": PASSWORD}),
        "wrong login": client.post("/auth/login", json={"email": tourist.user.email, "password": "nope"}),
        "me": client.get("/auth/me", headers=tourist.headers),
        "profile": client.get("/me/profile", headers=tourist.headers),
        "contacts": client.get("/me/contacts", headers=tourist.headers),
        "history": client.get("/location/history", headers=tourist.headers),
        "share link": client.get("/share/" + "x" * 43),
        "validation error": client.post("/location/update", json={"lat": True}, headers=tourist.headers),
        "health": client.get("/health"),
    }
    for what, response in answers.items():
        assert response.headers["x-content-type-options"] == "nosniff", what
        assert response.headers["cache-control"] == "no-store", what
        assert response.headers["referrer-policy"] == "no-referrer", what
    assert answers["login"].status_code == 200


def test_dashboard_assets_keep_their_own_cache_policy(client: TestClient) -> None:
    response = client.get("/dashboard/app.js")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_docs_page_runs_offline_from_the_package_under_a_csp(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    html = page.text
    assert "<script>" not in html  # no inline code: the CSP would block it
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/") for source in sources), sources  # no CDN
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert asset.headers["x-content-type-options"] == "nosniff"
    script = client.get("/docs/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert len(script.content) > 500_000  # the real Swagger UI bundle, not a stub
    assert client.get("/docs/init.js").text.count("/openapi.json") == 1


def test_redoc_page_runs_offline_too(client: TestClient) -> None:
    page = client.get("/redoc")
    assert "content-security-policy" in page.headers
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert all(source.startswith("/") for source in sources), sources
    assert all(client.get(source).status_code == 200 for source in sources)


def test_swagger_ui_renders_every_operation_without_network_and_csp_errors(
    live_server: LiveServer, tmp_path: Path
) -> None:
    """The real page in headless Chromium: the operations list appears, nothing is blocked by the CSP."""
    driver = start_chromium(tmp_path / "profile")
    try:
        driver.get(f"{live_server.url}/docs")
        WebDriverWait(driver, 20).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path[data-path='/threats/report']")
        )
        assert severe_console_entries(driver) == []
    finally:
        driver.quit()
