"""The dashboard's static routes: its files, their content types, the security headers, and 404s."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data: blob:; media-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@pytest.mark.parametrize(
    ("path", "content_type", "marker"),
    [
        ("/dashboard", "text/html; charset=utf-8", b'<form id="login-form"'),
        ("/dashboard/app.js", "text/javascript; charset=utf-8", b'"use strict"'),
        ("/dashboard/app.css", "text/css; charset=utf-8", b"#incident-list"),
        ("/dashboard/charts.js", "text/javascript; charset=utf-8", b"export function stackedBars"),
        ("/dashboard/history.js", "text/javascript; charset=utf-8", b"/deliveries?"),
        ("/dashboard/analytics.js", "text/javascript; charset=utf-8", b"/statistics/hourly"),
        ("/dashboard/reports.css", "text/css; charset=utf-8", b"#history-panel"),
        ("/dashboard/units.js", "text/javascript; charset=utf-8", b'"use strict"'),
        ("/dashboard/casefile.js", "text/javascript; charset=utf-8", b"grouped_reports"),
    ],
)
def test_each_file_is_served_with_its_type_and_the_security_headers(
    client: TestClient, path: str, content_type: str, marker: bytes
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert marker in response.content
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/index.html",
        "/dashboard/nothing.js",
        "/dashboard/../app.py",
        "/dashboard/%2e%2e/router.py",
        "/dashboard/static/app.js",
        "/dashboard/..%2Frouter.py",
    ],
)
def test_anything_but_its_files_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert b"import" not in response.content


def test_the_page_holds_no_inline_script_or_style(client: TestClient) -> None:
    """The CSP forbids inline code, so the page would break silently if some crept in."""
    page = client.get("/dashboard").text
    assert "<style" not in page
    assert "style=" not in page
    assert "<script>" not in page
    assert " on" + "click=" not in page
    for name in ("app.js", "charts.js", "history.js", "analytics.js", "units.js", "casefile.js"):
        script = client.get(f"/dashboard/{name}").text
        assert "innerHTML" not in script, name
        assert "localStorage" not in script, name
