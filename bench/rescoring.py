"""Rescoring throughput: ``safesphere rescore`` over recent fixes, in fixes per second.

Target (issue 5): >= 20,000 fixes/s (the document: 1,000 per run every 5-10 minutes). Needs the
tourist side's rescoring command and, for the 1M-fix scale, ``bench/location_scale.py``.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from bench.city import location_bodies, location_requests, register_tourists
from bench.measure import at_rate
from bench.results import BenchmarkReport, Target
from bench.scale import Scale
from bench.servers import REPO_ROOT, clean_env, has_route, safesphere_command, safesphere_server

TITLE = "Rescoring throughput (safesphere rescore)"
TARGET_FIXES_PER_S = 20_000
LOAD_RPS = 400.0
"""Fixes posted per second to build the data set through the API."""


def rescore_command_landed(data_dir: Path) -> bool:
    completed = subprocess.run(
        [safesphere_command(), "rescore", "--help"],
        env=clean_env(data_dir),
        cwd=REPO_ROOT,
        capture_output=True,
    )
    return completed.returncode == 0


def run(scale: Scale, workdir: Path) -> BenchmarkReport:
    data_dir = workdir / "safesphere"
    data_dir.mkdir(parents=True, exist_ok=True)
    if not rescore_command_landed(data_dir):
        return BenchmarkReport.not_landed(
            "rescoring", TITLE, "`safesphere rescore` (issue 3) is not there yet."
        )
    with safesphere_server(data_dir) as server:
        if not has_route(server.url, "post", "/location/update"):
            return BenchmarkReport.not_landed("rescoring", TITLE, "`POST /location/update` is not there yet.")
        tokens = register_tourists(server.url, 20)
        requests = location_requests(tokens, location_bodies(scale.distinct_bodies))
        posted = at_rate(
            server.url, requests, rate=LOAD_RPS, duration_s=scale.rescore_fixes / LOAD_RPS, warmup_s=0
        )
    began = time.perf_counter()
    subprocess.run(
        [safesphere_command(), "rescore", "--hours-back", "1"],
        env=clean_env(data_dir), cwd=REPO_ROOT, check=True, capture_output=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - began
    rate = posted.ok / elapsed if elapsed > 0 else 0.0
    report = BenchmarkReport(key="rescoring", title=TITLE)
    report.headers = ["fixes", "seconds (whole command)", "fixes/s"]
    report.rows = [[f"{posted.ok:,}", f"{elapsed:.2f}", f"{rate:,.0f}"]]
    report.targets = [
        Target(f">= {TARGET_FIXES_PER_S:,} fixes/s", f"{rate:,.0f} fixes/s", rate >= TARGET_FIXES_PER_S)
    ]
    report.notes = [
        "Fixes were posted through the API; the command's start-up (imports, migrations check) is included.",
        "The 1M-fix scale needs `bench/location_scale.py` (tourist side).",
    ]
    report.raw = {"fixes": posted.ok, "elapsed_s": elapsed}
    return report
