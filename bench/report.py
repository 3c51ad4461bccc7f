"""Rewrites docs/BENCHMARKS.md and its PNG plots from one run's results."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.results import BenchmarkReport
from bench.scale import Scale

METHOD = """\
- Each benchmark starts its **own server** with the settings a user gets from `safesphere serve`
  (fresh data directory, SQLite in WAL mode with `synchronous=FULL`, one uvicorn worker, INFO logs).
- Load comes from a **separate process** (`bench/loadgen.py`) over loopback: an **open-loop**
  generator on raw HTTP/1.1 keep-alive sockets (asyncio + uvloop). Request *i* is due at
  `start + i/rate` whatever earlier requests did, and its latency is measured from that due time,
  so a server that falls behind shows its queueing delay (no coordinated omission). Latency
  percentiles are those of the requests answered 2xx; the others count as failed.
- **Overload**: a server past `SAFESPHERE_MAX_IN_FLIGHT_DEVICE_WRITES` (64) threat reports or
  location fixes in flight answers the excess 503 with `Retry-After` at once (the SDK spools and
  retries them), so at rates beyond its capacity it is the failed column that grows, not latency.
- **Ceiling**: a minimal FastAPI app (`bench/ceiling.py`) served by the same `uvicorn.run` call,
  answering a no-op POST with request bodies of the same size. Every throughput is also given as a
  share of the ceiling's capacity measured in the same run.
- **Group-commit reference** (issue 17): the same app validating the body with SafeSphere's own schema
  and writing the *same rows* as a real report or location update (`bench/reference_rows.py` says which
  and how they were counted) into SafeSphere's own migrated database, through one writer thread that
  commits up to 64 requests per transaction and answers each once its batch is durable
  (`bench/group_commit.py`). Every ingestion and location throughput is also given as a multiple of
  its capacity measured in the same run ("of group-commit ref").
- **CPU ms/req**: the server's CPU time (user + system of its processes and their descendants, from
  `/proc/<pid>/stat`), read by the load generator at the first measured send and after the last answer,
  divided by the requests answered 2xx in that window; a capacity row gives the figure of the step that
  set the capacity. It stays comparable across noisy runs where rates do not.
- **Capacity**: the offered rate rises step by step (x1.6) until under 90% of it completes, over 1%
  fails or p99 passes 2 s, then two more steps halve the gap between the last healthy rate and the
  saturated one (to within 12%); capacity is the best achieved rate of a step with at most 1% failed.
- The machine has 2 cores shared by the server and the generator; the generator's own lateness
  ("send lag") is reported to show it kept its schedule.
"""


def _machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"
    return f"{model}, {os.cpu_count()} cores; {versions}"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def plot(report: BenchmarkReport, path: Path) -> bool:
    """Achieved rate and p99 against the offered rate, a line per server; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(11, 4))
    for sweep in report.sweeps:
        offered = [step.offered_rps for step in sweep.steps]
        throughput.plot(offered, [step.achieved_rps for step in sweep.steps], marker="o", label=sweep.label)
        latency.plot(offered, [step.p99_ms for step in sweep.steps], marker="o", label=sweep.label)
    throughput.set(
        xlabel="offered requests/s",
        ylabel="achieved requests/s",
        title="Throughput",
        xscale="log",
        yscale="log",
    )
    latency.set(
        xlabel="offered requests/s",
        ylabel="p99 latency (ms)",
        title="p99 latency",
        xscale="log",
        yscale="log",
    )
    for axes in (throughput, latency):
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle(report.title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def _section(report: BenchmarkReport, plots_dir: Path, docs_dir: Path) -> list[str]:
    lines = [f"## {report.title}", ""]
    if not report.landed:
        return [*lines, f"**Not landed yet**: {report.not_landed_reason}", ""]
    if report.rows:
        lines += [*_table(report.headers, report.rows), ""]
    if report.targets:
        rows = [[t.goal, t.measured, "met" if t.met else "**missed**"] for t in report.targets]
        lines += [*_table(["target", "measured", ""], rows), ""]
    lines += [f"- {note}" for note in report.notes]
    if report.sweeps:
        image = plots_dir / f"{report.key}.png"
        if plot(report, image):
            lines += ["", f"![{report.title}]({image.relative_to(docs_dir).as_posix()})"]
        else:
            lines += ["- Plot not drawn: matplotlib is missing (`pip install -e '.[bench]'`)."]
    return [*lines, ""]


def write(reports: list[BenchmarkReport], *, scale: Scale, docs_dir: Path, elapsed_s: float) -> Path:
    plots_dir = docs_dir / "bench"
    plots_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Benchmarks",
        "",
        "_Rewritten by `make bench` (`python -m bench`); edit `bench/report.py`, not this file._",
        "",
        f"Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, scale `{scale.name}`, {elapsed_s / 60:.1f} min. "
        f"Machine: {_machine()}.",
        "",
        "## How it is measured",
        "",
        METHOD,
        "## Summary",
        "",
    ]
    summary = []
    for report in reports:
        if not report.landed:
            summary.append([report.title, "", "not landed yet", ""])
        for target in report.targets:
            summary.append(
                [report.title, target.goal, target.measured, "met" if target.met else "**missed**"]
            )
    lines += [*_table(["benchmark", "target", "measured", ""], summary), ""]
    for report in reports:
        lines += _section(report, plots_dir, docs_dir)
    path = docs_dir / "BENCHMARKS.md"
    path.write_text("\n".join(lines))
    raw = {
        report.key: {
            "landed": report.landed,
            **report.raw,
            "rows": report.rows,
            "targets": [asdict(t) for t in report.targets],
        }
        for report in reports
    }
    (plots_dir / "results.json").write_text(json.dumps(raw, indent=1))
    return path
