"""``safesphere serve`` speaks HTTPS with the operator's certificate (the document's "Enable HTTPS/TLS")."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from safesphere.cli import app as cli
from safesphere.core.config import Settings
from tests.support.certificates import self_signed
from tests.support.live import LiveServer, settings_env


def test_serve_answers_over_https_with_the_configured_certificate(tmp_path: Path, settings: Settings) -> None:
    cert, key = self_signed(tmp_path)
    env = {"SAFESPHERE_TLS_CERTFILE": str(cert), "SAFESPHERE_TLS_KEYFILE": str(key)}
    trusting = ssl.create_default_context(cafile=str(cert))
    server = LiveServer(settings, extra_env=env, serve_command=True, scheme="https", verify=trusting)
    with server:
        health = httpx.get(f"{server.url}/health", verify=trusting, timeout=10)
        with pytest.raises(httpx.TransportError):
            httpx.get(server.url.replace("https://", "http://") + "/health", timeout=5)
        untrusted = pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED")
        with untrusted:
            httpx.get(f"{server.url}/health", timeout=5)  # the system's CAs do not know it
    assert health.status_code == 200
    assert server.log_path is not None
    assert "https://127.0.0.1" in server.log_path.read_text()  # the banner says where it listens


def test_a_certificate_without_its_key_or_a_missing_file_is_refused(
    tmp_path: Path, settings: Settings
) -> None:
    cert, _key = self_signed(tmp_path)
    with pytest.raises(ValidationError, match="tls_certfile and tls_keyfile go together"):
        Settings(tls_certfile=cert)
    with pytest.raises(ValidationError, match="is not a readable file"):
        Settings(tls_certfile=cert, tls_keyfile=tmp_path / "missing.pem")

    env = settings_env(settings, SAFESPHERE_TLS_CERTFILE=str(cert))
    result = CliRunner().invoke(cli, ["serve", "--port", "1"], env=env)
    assert result.exit_code == 1
    assert "Invalid settings: tls_certfile and tls_keyfile go together" in " ".join(result.output.split())
