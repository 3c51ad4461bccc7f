"""Rescoring throughput: ``safesphere rescore`` over recent fixes, in fixes per second.

Target (issue 5, kept by issue 17): >= 20,000 fixes/s (the document: 1,000 per run every 5-10 minutes),
on the city ``bench/location_scale.py`` loads. The rate is the rescoring's own (the command's last line:
its count, seconds and fixes/s, process start-up excluded); the whole command's time and CPU are
reported beside it.
"""

from __future__ import annotations

import re
import resource
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
HOURS_BACK = 1.0
"""The loaded city's tourists each sent their latest fix within the last hour, spread evenly: the whole
last hour (about 50,000 fixes at full scale), the window the server's periodic rescoring covers."""
COMMAND_LINE = re.compile(r"Rescored ([\d,]+) fixes in ([\d.]+) s \(([\d,]+) fixes/s\)")
"""The command's last line."""


def _children_cpu_s() -> float:
    """User + system CPU of this process's finished children (the command's, once it returned)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
    began, children_cpu = time.perf_counter(), _children_cpu_s()
    completed = subprocess.run(
        [safesphere_command(), "rescore", "--hours-back", str(HOURS_BACK)],
        env=clean_env(data_dir), cwd=REPO_ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    whole, command_cpu = time.perf_counter() - began, _children_cpu_s() - children_cpu
    found = COMMAND_LINE.search(completed.stdout)
    if found is None:
        raise RuntimeError(f"`safesphere rescore` printed no rate line: {completed.stdout[-500:]!r}")
    rescored, own = int(found[1].replace(",", "")), float(found[2])
    rate = rescored / own if own > 0 else 0.0
    report = BenchmarkReport(key="rescoring", title=TITLE)
    report.headers = [
        "fixes rescored",
        "seconds (rescoring)",
        "fixes/s (rescoring)",
        "seconds (whole command)",
        "CPU s (whole command)",
    ]
    report.rows = [[f"{rescored:,}", f"{own:.2f}", f"{rate:,.0f}", f"{whole:.2f}", f"{command_cpu:.2f}"]]
    report.targets = [
        Target(f">= {TARGET_FIXES_PER_S:,} fixes/s", f"{rate:,.0f} fixes/s", rate >= TARGET_FIXES_PER_S)
    ]
    report.notes = [
        f"The city of the location benchmark ({size.alerts:,} alerts, {size.zones:,} zones, "
        f"{size.tourists:,} tourists, {size.fixes:,} fixes); every fix of the last "
        f"{HOURS_BACK * 60:g} minutes ({fixes:,} counted before the run) is rescored with data as of its own "
        "time. The rate is the rescoring's own time as the command reports it; the whole command's time "
        "adds the process start-up (imports, settings, database).",
        "Batched rescoring (tracking/rescoring/), 5,000 fixes a batch: the last hours' fixes and the last "
        "30 days' alerts are read once for the run (Core rows) and topped up before each batch (new rows, "
        "alert statuses); a batch is the next held fixes by id, and adds the tourists' older scores (one "
        "grouped query) and statuses. Movement and crowds come from the held fixes, zones from the "
        "in-memory STR-tree queried with arrays, the six factors are computed for the whole batch over "
        "numpy arrays "
        "(scoring/alert_arrays.py, scoring/factor_arrays.py, scoring/batch.py), and each batch is written "
        "with one executemany UPDATE per table. The results equal the per-fix path's exactly "
        "(tests/tracking/rescoring/test_service.py, test_vectorised.py).",
    ]
    report.raw = {
        "fixes": rescored, "rescoring_s": own, "command_s": whole, "command_cpu_s": command_cpu,
        "fixes_per_s": rate,
    }  # fmt: skip
    return report
