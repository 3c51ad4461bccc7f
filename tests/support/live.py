"""A real SafeSphere server in a child process (uvicorn over loopback), for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from safesphere.core.config import Settings

STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ONE_CLIENT_UNLIMITED: dict[str, object] = {
    "device_writes_in_flight_per_client": 0,
    "device_writes_per_s": 0,
}
"""Settings overrides for a test whose burst comes from one engine key or tourist on purpose (a race, a
retry storm, a page of a hundred): that client's own fair share (tests/core/test_admission.py) is lifted.
The pool of first key checks is not: a burst of a key not checked yet waits for its one check."""


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes a child process read the same settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFESPHERE_")}
    env.update(
        SAFESPHERE_DATA_DIR=str(settings.data_dir),
        SAFESPHERE_DATABASE_URL=settings.resolved_database_url,
        SAFESPHERE_JWT_SECRET=settings.jwt_secret or "",
        SAFESPHERE_SQLITE_SYNCHRONOUS=settings.sqlite_synchronous,
        SAFESPHERE_GROUPING_WINDOW_S=str(settings.grouping_window_s),
        SAFESPHERE_RETENTION_INTERVAL_S=str(settings.retention_interval_s),
        SAFESPHERE_DEVICE_WRITES_IN_FLIGHT_PER_CLIENT=str(settings.device_writes_in_flight_per_client),
        SAFESPHERE_DEVICE_WRITES_PER_S=str(settings.device_writes_per_s),
        SAFESPHERE_UNVERIFIED_KEY_CHECKS=str(settings.unverified_key_checks),
    )
    if settings.field_encryption_key is not None:
        env["SAFESPHERE_FIELD_ENCRYPTION_KEY"] = settings.field_encryption_key.get_secret_value()
    env.update(extra)
    return env


@dataclass
class LiveServer:
    """``start()`` launches uvicorn; ``kill()`` is kill -9; ``start()`` again restarts on the same port.

    ``serve_command`` runs ``safesphere serve`` itself instead (its banner, migrations and the uvicorn
    options it passes: proxies, TLS); ``scheme`` and ``verify`` (the CA an HTTPS server is checked
    against) are how it is reached. ``command`` runs that instead (it must listen on ``port``). As a
    context manager it is started and stopped around the block."""

    settings: Settings
    workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    serve_command: bool = False
    scheme: str = "http"
    verify: ssl.SSLContext | bool = True
    command: list[str] | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        if self.command is not None:
            return self.command
        if self.serve_command:
            safesphere = str(Path(sys.executable).parent / "safesphere")
            return [safesphere, "serve", "--port", str(self.port), "--workers", str(self.workers)]
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "safesphere.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "3",
        ]

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.log_path = self.settings.data_dir / f"server-{self.port}.log"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self._command(),
            env=settings_env(self.settings, **self.extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited at start-up:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1, verify=self.verify).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not answer within {STARTUP_TIMEOUT_S}s:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """kill -9 the whole process group: no shutdown hooks run."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
