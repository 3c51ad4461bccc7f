"""Servers under test, each a child process on loopback with a fresh data directory.

SafeSphere starts through ``safesphere serve``, the command a user runs, with default settings (SQLite
in WAL mode, ``synchronous=FULL``: every incident is durable when answered). The ceiling starts through
the same ``uvicorn.run`` call (``bench.ceiling``). A load run reads the CPU time of a server's processes
(``cpu_pids``, with their descendants) around its measured window.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import procstat

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 60.0
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def safesphere_command() -> str:
    beside_python = Path(sys.executable).parent / "safesphere"
    found = str(beside_python) if beside_python.exists() else shutil.which("safesphere")
    if found is None:
        raise RuntimeError("the safesphere command is not installed (make install)")
    return found


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The user's environment without any SAFESPHERE_ setting, pointed at a fresh data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFESPHERE_")}
    env["SAFESPHERE_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            total += int((Path("/proc") / str(current) / "statm").read_text().split()[1]) * PAGE_SIZE
        except OSError:
            continue
        stack.extend(procstat.children(current))
    return total


@dataclass
class ServerProcess:
    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*self.command, "--port", str(self.port)],
            env=self.env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {STARTUP_TIMEOUT_S}s; see {self.log_path}")

    def rss_bytes(self) -> int:
        return tree_rss_bytes(self.process.pid) if self.process else 0

    def cpu_pids(self) -> list[int]:
        """The processes whose CPU time is the server's (with their descendants)."""
        return [self.process.pid] if self.process else []

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


ONE_CLIENT_FLEET = {
    "SAFESPHERE_DEVICE_WRITES_IN_FLIGHT_PER_CLIENT": "0",
    "SAFESPHERE_DEVICE_WRITES_PER_S": "0",
}
"""For capacity runs whose load generator sends as one engine key or a few tourists standing for a whole
fleet: without it each client's fair share (issue 16; the ``admission`` benchmark) would cap the rate."""


def safesphere_server(data_dir: Path, **env: str) -> ServerProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    return ServerProcess(
        name="safesphere",
        command=[safesphere_command(), "serve", "--host", "127.0.0.1"],
        env=clean_env(data_dir, **env),
        log_path=data_dir / "server.log",
    )


def ceiling_server(data_dir: Path, *, group_commit: bool = False) -> ServerProcess:
    """The ceiling's app; with ``group_commit``, on a SafeSphere database for the group-commit reference."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return ServerProcess(
        name="ceiling",
        command=[sys.executable, "-m", "bench.ceiling", "--host", "127.0.0.1"]
        + (["--group-commit"] if group_commit else []),
        env=clean_env(data_dir),
        log_path=data_dir / "ceiling.log",
    )


def has_route(url: str, method: str, path: str) -> bool:
    """Whether the running server's OpenAPI schema declares ``method path``."""
    schema = httpx.get(f"{url}/openapi.json", timeout=10).json()
    return method.lower() in schema.get("paths", {}).get(path, {})


def create_engine_key(data_dir: Path, name: str) -> str:
    """An engine key made with the user's own command (``safesphere keys create``)."""
    completed = subprocess.run(
        [safesphere_command(), "keys", "create", "--name", name],
        env=clean_env(data_dir),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip().splitlines()[-1]
