"""Debian's nginx running the repository's deploy/nginx.conf in front of live instances on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.certificates import self_signed
from tests.support.live import free_port

NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
COMPOSE_UPSTREAMS = ("app1:8000", "app2:8000")


def nginx_config(
    directory: Path, upstream_ports: list[int], port: int, cert: Path | None, key: Path | None
) -> Path:
    """deploy/nginx.conf with this machine's addresses; locations, buffering and headers as shipped.
    Without ``cert`` it speaks plain HTTP on ``port`` (the benchmarks' load generator has no TLS)."""
    text = NGINX_CONF.read_text()
    if cert is None or key is None:
        lines = [line for line in text.splitlines(keepends=True) if "ssl_" not in line]
        text = "".join(lines).replace("listen 443 ssl;", f"listen 127.0.0.1:{port};")
    for name, upstream in zip(COMPOSE_UPSTREAMS, upstream_ports, strict=True):
        text = text.replace(f"server {name}", f"server 127.0.0.1:{upstream}")
    text = (
        text.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
        .replace("/etc/nginx/certs/fullchain.pem", str(cert))
        .replace("/etc/nginx/certs/privkey.pem", str(key))
        .replace(
            "pid /tmp/nginx.pid;", f"pid {directory / 'nginx.pid'};\nerror_log {directory / 'error.log'};"
        )
    )
    temp = directory / "temp"
    temp.mkdir()
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    paths = "".join(f"    {kind}_temp_path {temp / kind};\n" for kind in kinds)
    text = text.replace("http {\n", "http {\n" + paths, 1)
    config = directory / "nginx.conf"
    config.write_text(text)
    return config


@contextmanager
def nginx(directory: Path, upstream_ports: list[int]) -> Iterator[tuple[str, ssl.SSLContext]]:
    """Starts nginx; yields its https URL and the context that trusts its certificate."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    cert, key = self_signed(directory)
    trust = ssl.create_default_context(cafile=str(cert))
    config = nginx_config(directory, upstream_ports, port, cert, key)
    process = subprocess.Popen(
        [binary, "-g", "daemon off;", "-c", str(config), "-p", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(directory / 'error.log').read_text(errors='replace')}")
            try:
                httpx.get(f"{url}/health", verify=trust, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url, trust
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
