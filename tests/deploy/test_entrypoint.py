"""The container's entrypoint run as the image runs it, and the refusals that keep instances consistent."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from safesphere.core.config import Settings
from tests.support.live import LiveServer, free_port, settings_env

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "scripts" / "entrypoint.sh"
SAFESPHERE = str(Path(sys.executable).parent / "safesphere")


def _compose_app_environment() -> dict[str, str]:
    """The environment compose.yaml gives its app instances, ``${VAR:-default}`` read as its default."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    environment = compose["services"]["app1"]["environment"]
    assert environment == compose["services"]["app2"]["environment"]
    return {name: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value)) for name, value in environment.items()}


def test_the_entrypoint_serves_answers_its_healthcheck_and_stops_on_sigterm(settings: Settings) -> None:
    port = free_port()
    env = _compose_app_environment()
    assert (
        env.pop("SAFESPHERE_JWT_SECRET")
        and env.pop("SAFESPHERE_FIELD_ENCRYPTION_KEY")
        and env.pop("SAFESPHERE_DATABASE_URL")
        and env.pop("SAFESPHERE_DATA_DIR")
    )
    # The test's own database, data directory and secrets (settings_env); on loopback, not 0.0.0.0.
    env |= {
        "SAFESPHERE_LISTEN_HOST": "127.0.0.1",
        "SAFESPHERE_LISTEN_PORT": str(port),
        "SAFESPHERE_BIN": SAFESPHERE,
    }
    healthcheck = ["sh", str(ENTRYPOINT), "healthcheck"]
    server = LiveServer(settings, port=port, command=["sh", str(ENTRYPOINT)], extra_env=env)
    with server:
        healthy = subprocess.run(
            healthcheck, env=settings_env(settings, **env), capture_output=True, text=True
        )
        assert healthy.returncode == 0, healthy.stderr
        passthrough = subprocess.run(
            ["sh", str(ENTRYPOINT), "db", "upgrade"],
            env=settings_env(settings, **env),
            capture_output=True,
            text=True,
        )
        assert passthrough.returncode == 0, passthrough.stderr
        process = server.process
        assert process is not None
        # exec hands the shell's pid to the server: SIGTERM to that one pid (as docker stop sends it)
        # stops the server itself, cleanly and promptly.
        started = time.monotonic()
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        stopped_in = time.monotonic() - started
    log = server.log_path.read_text() if server.log_path else ""
    assert process.returncode in (0, -signal.SIGTERM), log
    assert "Application shutdown complete" in log
    assert stopped_in < 10

    down = subprocess.run(healthcheck, env=settings_env(settings, **env), capture_output=True, text=True)
    assert down.returncode != 0
    assert "unhealthy" in down.stderr


def test_serving_postgresql_with_secrets_generated_per_host_is_refused(tmp_path: Path) -> None:
    # A secret generated into each host's data directory would differ between instances sharing the
    # database, and a token signed by one would be refused by the others. The check precedes any connection.
    settings = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://nobody@127.0.0.1:9/none")
    env = settings_env(settings)
    env.pop("SAFESPHERE_JWT_SECRET")
    env.pop("SAFESPHERE_FIELD_ENCRYPTION_KEY", None)

    refused = subprocess.run(
        [SAFESPHERE, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True
    )

    assert refused.returncode != 0
    said = refused.stdout + refused.stderr
    assert "SAFESPHERE_JWT_SECRET and SAFESPHERE_FIELD_ENCRYPTION_KEY must be set" in said
    assert not (tmp_path / "jwt_secret").exists()
