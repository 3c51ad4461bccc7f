"""The tourist app's static routes: its files, their types, the security headers, and 404s."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; manifest-src 'self'; worker-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@pytest.mark.parametrize(
    ("path", "content_type", "marker"),
    [
        ("/app/", "text/html; charset=utf-8", b'<form id="login-form"'),
        ("/app/app.js", "text/javascript; charset=utf-8", b'"use strict"'),
        ("/app/app.css", "text/css; charset=utf-8", b".badge"),
        ("/app/sw.js", "text/javascript; charset=utf-8", b'addEventListener("fetch"'),
        ("/app/manifest.webmanifest", "application/manifest+json", b'"start_url": "/app/"'),
        ("/app/icon.svg", "image/svg+xml", b"<svg"),
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


def test_app_without_a_slash_moves_into_the_service_workers_scope(client: TestClient) -> None:
    response = client.get("/app", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/app/"


@pytest.mark.parametrize(
    "path",
    ["/app/index.html", "/app/nothing.js", "/app/../app.py", "/app/%2e%2e/router.py", "/app/static/app.js"],
)
def test_anything_but_the_apps_files_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert b"import" not in response.content


def test_the_page_holds_no_inline_code_and_the_script_no_html_injection(client: TestClient) -> None:
    page = client.get("/app/").text
    assert "<style" not in page
    assert "style=" not in page
    assert "<script>" not in page
    assert " on" + "click=" not in page
    for script in ("/app/app.js", "/app/sw.js"):
        body = client.get(script).text
        assert "innerHTML" not in body
        assert body.replace("http://www.w3.org/2000/svg", "").count("http://") == 0
        assert "https://" not in body
