"""Rescoring throughput: ``safesphere rescore`` over recent fixes, in fixes per second.

Target (issue 5): >= 20,000 fixes/s (the document: 1,000 per run every 5-10 minutes), on the city
``bench/location_scale.py`` loads.
"""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench import location_scale
from bench.results import BenchmarkReport, Target
from bench.scale import Scale
from bench.servers import REPO_ROOT, clean_env, safesphere_command
from safesphere.tracking.models import LocationFix

TITLE = "Rescoring throughput (safesphere rescore)"
TARGET_FIXES_PER_S = 20_000
HOURS_BACK = 0.1
"""The loaded city's tourists each sent their latest fix within the last hour, spread evenly; the last
six minutes hold a tenth of them (5,000 at full scale), a sample that keeps ``make bench`` inside its
15 minutes while the per-fix path is far below the target rate."""


def rescore_command_landed(data_dir: Path) -> bool:
    completed = subprocess.run(
        [safesphere_command(), "rescore", "--help"],
        env=clean_env(data_dir),
        cwd=REPO_ROOT,
        capture_output=True,
    )
    return completed.returncode == 0


def _recent_fixes(data_dir: Path, hours_back: float) -> int:
    engine = sa.create_engine(f"sqlite:///{data_dir / 'safesphere.db'}")
    since = datetime.now(UTC) - timedelta(hours=hours_back)
    with engine.connect() as connection:
        count = connection.scalar(
            sa.select(sa.func.count()).select_from(LocationFix).where(LocationFix.timestamp >= since)
        )
    engine.dispose()
    return int(count or 0)


def run(scale: Scale, workdir: Path) -> BenchmarkReport:
    data_dir = workdir / "safesphere"
    data_dir.mkdir(parents=True, exist_ok=True)
    if not rescore_command_landed(data_dir):
        return BenchmarkReport.not_landed(
            "rescoring", TITLE, "`safesphere rescore` (issue 3) is not there yet."
        )
    size = location_scale.SIZES[scale.location_scale]
    location_scale.load(data_dir, size)
    fixes = _recent_fixes(data_dir, HOURS_BACK)
    began = time.perf_counter()
    subprocess.run(
        [safesphere_command(), "rescore", "--hours-back", str(HOURS_BACK)],
        env=clean_env(data_dir), cwd=REPO_ROOT, check=True, capture_output=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - began
    rate = fixes / elapsed if elapsed > 0 else 0.0
    report = BenchmarkReport(key="rescoring", title=TITLE)
    report.headers = ["fixes rescored", "seconds (whole command)", "fixes/s"]
    report.rows = [[f"{fixes:,}", f"{elapsed:.2f}", f"{rate:,.0f}"]]
    report.targets = [
        Target(f">= {TARGET_FIXES_PER_S:,} fixes/s", f"{rate:,.0f} fixes/s", rate >= TARGET_FIXES_PER_S)
    ]
    report.notes = [
        f"The city of the location benchmark ({size.alerts:,} alerts, {size.zones:,} zones, "
        f"{size.tourists:,} tourists, {size.fixes:,} fixes); every fix of the last "
        f"{HOURS_BACK * 60:g} minutes is rescored with data as of its own time. The command's start-up "
        "is included.",
        "Each fix is scored with its own handful of indexed queries (the same path as a live update); "
        "batching the queries of a whole batch of fixes is what the 20,000/s target needs.",
    ]
    report.raw = {"fixes": fixes, "elapsed_s": elapsed}
    return report
