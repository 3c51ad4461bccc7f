"""Server memory: resident set size of a fresh server, and at the 1M-fix scale once that can be loaded."""

from __future__ import annotations

from pathlib import Path

from bench.results import BenchmarkReport
from bench.scale import Scale
from bench.servers import safesphere_server

TITLE = "Server memory (RSS)"
MIB = 2**20


def run(scale: Scale, workdir: Path) -> BenchmarkReport:
    with safesphere_server(workdir / "safesphere") as server:
        idle = server.rss_bytes()
    report = BenchmarkReport(key="memory", title=TITLE, headers=["state", "RSS MiB"])
    report.rows = [["fresh server, empty database, idle", f"{idle / MIB:,.0f}"]]
    report.notes = [
        "The ingestion and location sections give the RSS after their load runs.",
        "RSS at the 1M-fix scale: see the location benchmark (measured after its target run).",
    ]
    report.raw = {"idle_rss_bytes": idle}
    return report
