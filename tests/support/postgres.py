"""A real, throwaway PostgreSQL server for the test suite: initdb in a temp dir, listen on a free port."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for directory in PG_BIN_CANDIDATES:
        if (directory / name).exists():
            return str(directory / name)
    raise RuntimeError(
        f"PostgreSQL's {name} was not found: install the server (apt-get install postgresql) "
        "to run the PostgreSQL tests"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    root: Path
    port: int
    user: str
    process_user: str | None

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.process_user:
            command = ["runuser", "-u", self.process_user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    @classmethod
    def start(cls, *, durable: bool = False) -> PostgresServer:
        """Start a server in a fresh directory of its own (pytest's temp dirs are closed to other users).
        Tests trade durability for speed; ``durable`` (the benchmarks) keeps PostgreSQL's defaults, so a
        commit is on disk when answered, as SQLite's synchronous=FULL is."""
        root = Path(tempfile.mkdtemp(prefix="safesphere-pg-"))
        # initdb refuses to run as root; run the server as the 'postgres' system user then.
        process_user = None
        if os.geteuid() == 0:
            process_user = "postgres"
            try:
                owner = pwd.getpwnam(process_user)
            except KeyError as exc:
                raise RuntimeError("running as root needs the 'postgres' system user") from exc
            os.chown(root, owner.pw_uid, owner.pw_gid)
        server = cls(root=root, port=_free_port(), user="safesphere", process_user=process_user)
        data = root / "data"
        server._run(
            _pg_bin("initdb"), "-D", str(data), "-U", server.user, "-A", "trust", "-E", "UTF8", "--no-sync"
        )
        server._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
            + ("" if durable else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"),
            "start",
        )
        return server

    def stop(self) -> None:
        try:
            self._run(_pg_bin("pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
