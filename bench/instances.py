"""Several instances: ingestion and location capacity of two instances on one PostgreSQL behind nginx
(``deploy/nginx.conf``), against one instance on PostgreSQL and one on SQLite, in the same run.

Every process (the instances, PostgreSQL, nginx and the load generator) shares this machine's cores, so
two instances cannot have more CPU than one could take: the growth measured here is what a second
Python process adds on the same cores (one instance runs its routes on one interpreter, so it cannot
use a second core for them), a lower bound on what a second host adds.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet
from tests.support.postgres import PostgresServer
from tests.support.proxy import nginx_config

from bench.city import location_bodies, location_requests, register_tourists
from bench.ingestion import ENGINE_KEY_NAME, incident_bodies, report_requests
from bench.measure import capacity_sweep
from bench.references import Baselines, baselines
from bench.results import BenchmarkReport, Sweep, cpu_ms, ratio
from bench.scale import Scale
from bench.servers import (
    ONE_CLIENT_FLEET,
    REPO_ROOT,
    STARTUP_TIMEOUT_S,
    ServerProcess,
    free_port,
    safesphere_command,
    safesphere_server,
)

TITLE = "Several instances (two on PostgreSQL behind nginx, against one)"
TOURISTS = 50
"""Tourists registered through the API, posting fixes into an otherwise empty city."""
SWEEP_START_DIVISOR = 10
"""Each sweep starts at a tenth of the workload's target rate, as the single-server rows do ..."""
SWEEP_START_RPS = 10.0
"""... never below this (at the tiny scale a half-second step at 1/s sends nothing)."""

Start = Callable[[str], ServerProcess]
KINDS = ("ingestion", "location")


def _cli(env: dict[str, str], *args: str) -> str:
    completed = subprocess.run(
        [safesphere_command(), *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return completed.stdout.strip().splitlines()[-1]


@dataclass
class Proxied(ServerProcess):
    """Instances on one database behind nginx running deploy/nginx.conf: ``url`` is the proxy's."""

    instances: list[ServerProcess] = field(default_factory=list)
    directory: Path = Path()

    def start(self) -> Proxied:
        for instance in self.instances:  # one after the other: the first migrates, the others find it done
            instance.start()
        config = nginx_config(self.directory, [i.port for i in self.instances], self.port, None, None)
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen(
            [binary, "-g", "daemon off;", "-c", str(config), "-p", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nginx did not start; see {self.directory / 'error.log'}")
            time.sleep(0.1)

    def rss_bytes(self) -> int:
        return sum(instance.rss_bytes() for instance in self.instances)

    def cpu_pids(self) -> list[int]:
        """The instances and nginx (PostgreSQL's CPU is not counted)."""
        return [pid for instance in self.instances for pid in instance.cpu_pids()] + super().cpu_pids()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        for instance in self.instances:
            instance.stop()


@dataclass
class Deployment:
    """How one row's servers are made: a fresh database for each sweep."""

    label: str
    start: Start


def _sqlite(workdir: Path) -> Deployment:
    def start(name: str) -> ServerProcess:
        return safesphere_server(workdir / f"sqlite-{name}", **ONE_CLIENT_FLEET)

    return Deployment("one instance, SQLite", start)


def _postgres(postgres: PostgresServer, workdir: Path, instances: int) -> Deployment:
    shared_env = {
        **ONE_CLIENT_FLEET,  # per process: each instance behind the proxy gets it
        "SAFESPHERE_JWT_SECRET": secrets.token_urlsafe(48),
        "SAFESPHERE_FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    tag = f"pg{instances}"

    def start(name: str) -> ServerProcess:
        database = re.sub(r"\W", "_", f"bench_{tag}_{name}_{secrets.token_hex(3)}")  # an SQL identifier
        admin = sa.create_engine(postgres.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {database}"))
        admin.dispose()
        env = {**shared_env, "SAFESPHERE_DATABASE_URL": postgres.url(database)}
        servers = [safesphere_server(workdir / f"{tag}-{name}-{n}", **env) for n in range(instances)]
        if instances == 1:
            return servers[0]
        directory = workdir / f"{tag}-{name}-proxy"
        directory.mkdir(parents=True)
        return Proxied(
            name="nginx", command=[], env=servers[0].env, log_path=directory / "error.log",
            instances=servers, directory=directory,
        )  # fmt: skip

    label = "one instance, PostgreSQL" if instances == 1 else f"{instances} instances, PostgreSQL, nginx"
    return Deployment(label, start)


def _sweeps(deployment: Deployment, scale: Scale) -> dict[str, Sweep]:
    """The deployment's ingestion and location capacity, each on a fresh database (unless the scale lets
    one deployment serve both)."""
    if scale.fresh_server_per_sweep:

        def fresh(kind: str) -> Start:
            return lambda name: deployment.start(f"{kind}_{name}")

        return {kind: _sweep(deployment, kind, scale, fresh(kind)) for kind in KINDS}
    with deployment.start("shared") as server:
        return {kind: _sweep(deployment, kind, scale, lambda _name: nullcontext(server)) for kind in KINDS}


def _sweep(
    deployment: Deployment,
    kind: str,
    scale: Scale,
    start: Callable[[str], AbstractContextManager[ServerProcess]],
) -> Sweep:
    if kind == "ingestion":
        bodies = incident_bodies(scale.distinct_bodies)

        def reports_for(server: ServerProcess) -> list[dict[str, Any]]:
            # The safesphere command reaches the server's database with the server's own environment.
            key = _cli(server.env, "keys", "create", "--name", f"{ENGINE_KEY_NAME}-{free_port()}")
            return report_requests(bodies, key)

        return capacity_sweep(
            start, reports_for, scale=scale, label=f"{deployment.label}: reports",
            start_rps=max(scale.ingestion_rps / SWEEP_START_DIVISOR, SWEEP_START_RPS), step_share=STEP_SHARE,
        )  # fmt: skip

    def fixes_for(server: ServerProcess) -> list[dict[str, Any]]:
        tourists = register_tourists(server.url, _tourists(scale))
        return location_requests(tourists, location_bodies(scale.distinct_bodies))

    return capacity_sweep(
        start, fixes_for, scale=scale, label=f"{deployment.label}: fixes",
        start_rps=max(scale.location_rps / SWEEP_START_DIVISOR, SWEEP_START_RPS), step_share=STEP_SHARE,
    )  # fmt: skip


STEP_SHARE = 0.6
"""Six sweeps on fresh deployments: 3 s steps instead of 5 keep `make bench` near 20 minutes (with
5 s steps this row took 333 s of a 19-minute run)."""


def _tourists(scale: Scale) -> int:
    return TOURISTS if scale.name == "full" else 3


def run(scale: Scale, workdir: Path) -> BenchmarkReport:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return BenchmarkReport.not_landed("instances", TITLE, "nginx is not installed (nginx-light).")
    workdir.mkdir(parents=True, exist_ok=True)
    measured_baselines = {
        "ingestion": baselines(
            "threat", incident_bodies(scale.distinct_bodies), scale=scale, workdir=workdir,
            start_rps=scale.ingestion_rps,
        ),
        "location": baselines(
            "location", location_bodies(scale.distinct_bodies), scale=scale, workdir=workdir,
            start_rps=max(scale.location_rps, SWEEP_START_RPS),
        ),
    }  # fmt: skip
    postgres = PostgresServer.start(durable=True)
    try:
        deployments = [_sqlite(workdir), _postgres(postgres, workdir, 1), _postgres(postgres, workdir, 2)]
        measured = {deployment.label: _sweeps(deployment, scale) for deployment in deployments}
    finally:
        postgres.stop()
    return _report(measured, deployments, measured_baselines, scale)


def _report(
    measured: dict[str, dict[str, Sweep]],
    deployments: list[Deployment],
    base: dict[str, Baselines],
    scale: Scale,
) -> BenchmarkReport:
    one, two = (measured[d.label] for d in deployments[1:])
    report = BenchmarkReport(key="instances", title=TITLE)
    report.headers = [
        "run", "reports/s (capacity)", "CPU ms/report", "of ceiling", "fixes/s (capacity)", "CPU ms/fix",
        "of ceiling",
    ]  # fmt: skip

    def row(label: str, sweeps: dict[str, Sweep]) -> list[str]:
        cells = [label]
        for kind in KINDS:
            rate = sweeps[kind].capacity_rps
            cells += [
                f"{rate:,.1f}",
                cpu_ms(sweeps[kind].cpu_ms_per_request),
                ratio(rate, base[kind].ceiling.capacity_rps),
            ]
        return cells

    report.rows = [row("ceiling capacity", {kind: base[kind].ceiling for kind in KINDS})]
    for index, reference in enumerate(base["ingestion"].references):
        pair = {kind: base[kind].references[index] for kind in KINDS}
        report.rows.append(row(f"{reference.label} capacity", pair))
    report.rows += [row(f"{label} capacity", sweeps) for label, sweeps in measured.items()]

    def growth(kind: str) -> str:
        base_rps = one[kind].capacity_rps
        return f"{two[kind].capacity_rps / base_rps:.2f}x" if base_rps else "n/a"

    report.rows.append(
        [
            "growth, one to two instances on PostgreSQL",
            growth("ingestion"),
            "",
            "",
            growth("location"),
            "",
            "",
        ]
    )
    report.sweeps = [sweep for sweeps in measured.values() for sweep in sweeps.values()]
    durable = {kind: base[kind].reference("durable").capacity_rps for kind in KINDS}
    report.notes = [
        "Capacity: the best rate a fresh deployment answered with at most 1% failed, found by the same "
        "open-loop sweep as the other rows; "
        + ("each sweep starts on a new database. " if scale.fresh_server_per_sweep else "")
        + "The ceiling and the "
        "references are those of the ingestion and location rows of the same run (measured here when "
        "this row runs alone): one process each, on SQLite. CPU ms: the deployment's processes (instances "
        "and nginx; PostgreSQL's not counted) per request answered, at the capacity step.",
        f"Two instances reach {ratio(two['ingestion'].capacity_rps, durable['ingestion'])} of the durable "
        f"reference's reports/s and {ratio(two['location'].capacity_rps, durable['location'])} of its "
        "fixes/s (a minimal app committing one row per request in one process).",
        "PostgreSQL runs on this machine with its durable defaults (fsync, synchronous_commit on), as "
        "SQLite runs with synchronous=FULL. The instances are `safesphere serve` with one worker each and "
        "the per-client shares lifted (the load generator stands for a whole fleet); nginx runs "
        "deploy/nginx.conf over plain HTTP (the load generator speaks no TLS).",
        "Every process (instances, PostgreSQL, nginx, load generator) shares the machine's 2 cores, so "
        "the growth bounds what a second process adds on the same cores (a route runs on one Python "
        "interpreter: one instance cannot use a second core for them); on separate hosts each instance "
        "brings its own cores, and the database becomes the bound.",
        f"Location fixes come from {_tourists(scale)} tourists into an empty city (the location row "
        "measures the loaded one); reports are the ingestion row's mix.",
    ]
    report.raw = {
        label: {kind: [step.as_dict() for step in sweep.steps] for kind, sweep in sweeps.items()}
        for label, sweeps in measured.items()
    }
    return report
