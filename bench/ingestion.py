"""Incident ingestion: ``POST /threats/report`` with a realistic mix, against the framework's ceiling.

Targets (issue 17, 2 cores): at least 15% of the ceiling's capacity and 1.0x the group-commit reference's
(``bench/references.py``), at most 1.0 ms of server CPU per report; p99 <= 50 ms at 300 reports/s
offered. Each report is durable when answered (SQLite WAL, synchronous=FULL, the default).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.city import CITY_CENTRE, CITY_SPREAD_DEG
from bench.measure import measure_server
from bench.references import baselines, ceiling_at_rate, reference_note
from bench.results import LOAD_HEADERS, BenchmarkReport, Target, cpu_ms, failure_text, load_row, ms, times
from bench.scale import Scale
from bench.servers import (
    ONE_CLIENT_FLEET,
    ServerProcess,
    create_engine_key,
    has_route,
    safesphere_server,
)
from safesphere.simulate.telemetry import threat_cv_incident

LEVEL_MIX = {"LOW": 0.05, "MEDIUM": 0.15, "HIGH": 0.40, "CRITICAL": 0.40}
"""Mostly HIGH/CRITICAL: the reports that run the heavier protocols (police, contacts, escalation)."""


TARGET_SHARE_OF_CEILING = 0.15
TARGET_TIMES_REFERENCE = 1.0
TARGET_CPU_MS = 1.0
"""Server CPU per report answered, at the capacity step: what stays comparable across noisy runs."""
TARGET_P99_MS = 50.0
DOCUMENT_INCIDENTS_PER_HOUR = 1000
"""The SafeSphere Backend API document's "Performance" section."""
SEED = 5
ENGINE_KEY_NAME = "bench-cam"
SWEEP_START_DIVISOR = 10
"""The capacity sweep starts at a tenth of the target rate, so a server below target still gets a number,
..."""
SWEEP_START_RPS = 10.0
"""... never below this: at the tiny scale's 2/s a half-second step after its warm-up sends nothing."""


def incident_bodies(count: int, *, seed: int = SEED) -> list[str]:
    """``count`` distinct threat_cv reports as JSON; ``{seq}`` in each id and source makes every send a new
    incident (a repeat of one source would be grouped into its open incident)."""
    rng = random.Random(seed)
    levels, weights = zip(*LEVEL_MIX.items(), strict=True)
    seen_at = datetime(2026, 2, 10, 14, 30, tzinfo=UTC)
    bodies = []
    for frame in range(count):
        lat = CITY_CENTRE[0] + rng.uniform(-CITY_SPREAD_DEG, CITY_SPREAD_DEG)
        lon = CITY_CENTRE[1] + rng.uniform(-CITY_SPREAD_DEG, CITY_SPREAD_DEG)
        report = threat_cv_incident(
            rng,
            level=rng.choices(levels, weights)[0],
            at=seen_at,
            frame_id=frame,
            source_id="cam-{seq}",
            location=(round(lat, 6), round(lon, 6)),
        )
        report["incident_id"] = "INC_BENCH_{seq}"
        bodies.append(json.dumps(report, ensure_ascii=False))
    return bodies


def report_requests(bodies: list[str], api_key: str) -> list[dict[str, Any]]:
    headers = {"Content-Type": "application/json", "X-API-Key": api_key}
    return [
        {"method": "POST", "path": "/threats/report", "headers": headers, "body": body} for body in bodies
    ]


TITLE = "Incident ingestion (POST /threats/report)"


def run(scale: Scale, workdir: Path) -> BenchmarkReport:
    probe_dir = workdir / "probe"
    probe_dir.mkdir(parents=True, exist_ok=True)
    with safesphere_server(probe_dir) as server:
        if not has_route(server.url, "post", "/threats/report"):
            return BenchmarkReport.not_landed(
                "ingestion", TITLE, "`POST /threats/report` (issue 2) is not there yet."
            )
    bodies = incident_bodies(scale.distinct_bodies)
    mean_body = sum(len(body.encode()) for body in bodies) / len(bodies)
    ceiling_at_target = ceiling_at_rate(bodies, rate=scale.ingestion_rps, scale=scale, workdir=workdir)
    measured = baselines("threat", bodies, scale=scale, workdir=workdir, start_rps=scale.ingestion_rps)
    ceiling_sweep, references = measured.ceiling, measured.references
    keys: dict[str, str] = {}

    def fresh_server(name: str) -> ServerProcess:
        data_dir = workdir / f"safesphere-{name}"
        keys[str(data_dir)] = create_engine_key(data_dir, ENGINE_KEY_NAME)
        return safesphere_server(data_dir, **ONE_CLIENT_FLEET)

    def reports_for(server: ServerProcess) -> list[dict[str, Any]]:
        return report_requests(bodies, keys[server.env["SAFESPHERE_DATA_DIR"]])

    at_target, sweep, rss = measure_server(
        fresh_server, reports_for, scale=scale, target_rps=scale.ingestion_rps,
        label="SafeSphere POST /threats/report",
        start_rps=max(scale.ingestion_rps / SWEEP_START_DIVISOR, SWEEP_START_RPS),
    )  # fmt: skip
    share = sweep.capacity_rps / ceiling_sweep.capacity_rps if ceiling_sweep.capacity_rps else 0.0
    group_rps, cpu = measured.group.capacity_rps, sweep.cpu_ms_per_request
    report = BenchmarkReport(key="ingestion", title=TITLE)
    report.headers = LOAD_HEADERS
    report.rows = [
        load_row("ceiling at target rate", ceiling_at_target),
        load_row("SafeSphere at target rate", at_target),
        *measured.rows(),
        measured.row("SafeSphere", sweep),
    ]
    report.targets = [
        Target(
            f">= {TARGET_SHARE_OF_CEILING:.0%} of the ceiling's capacity",
            f"{share:.1%}",
            share >= TARGET_SHARE_OF_CEILING,
        ),
        Target(
            f">= {TARGET_TIMES_REFERENCE:.1f}x the group-commit reference's capacity",
            times(sweep.capacity_rps, group_rps),
            group_rps > 0 and sweep.capacity_rps >= TARGET_TIMES_REFERENCE * group_rps,
        ),
        Target(
            f"<= {TARGET_CPU_MS:.1f} ms server CPU per report (at capacity)",
            f"{cpu_ms(cpu)} ms (group-commit reference {cpu_ms(measured.group.cpu_ms_per_request)} ms)",
            cpu <= TARGET_CPU_MS,
        ),
        Target(
            f"p99 <= {TARGET_P99_MS:.0f} ms at {scale.ingestion_rps:.0f} reports/s offered",
            f"p99 {ms(at_target.p99_ms)} ms, {at_target.achieved_rps:.0f}/s achieved, "
            f"{sum(at_target.failures.values())} failed",
            at_target.p99_ms <= TARGET_P99_MS and not at_target.failures,
        ),
        Target(
            "The document's figure: 1,000 incidents per hour",
            f"{sweep.capacity_rps * 3600:,.0f} per hour",
            sweep.capacity_rps * 3600 >= DOCUMENT_INCIDENTS_PER_HOUR,
        ),
    ]
    report.sweeps = [ceiling_sweep, *references, sweep]
    report.notes = [
        f"Mean request body {mean_body:,.0f} bytes (full threat_cv telemetry); the ceiling gets the same.",
        f"Level mix {', '.join(f'{level} {weight:.0%}' for level, weight in LEVEL_MIX.items())}.",
        "Every report comes from its own source (`cam-{seq}`), so each opens an incident and runs its whole "
        "protocol; repeats of one source within the grouping window would attach to its incident instead.",
        reference_note(measured, TARGET_SHARE_OF_CEILING),
        f"Server RSS after the run: {rss / 2**20:,.0f} MiB.",
        f"Load generator p99 send lag at the target rate: {at_target.send_lag_p99_ms:.1f} ms "
        f"(how late the generator itself was; near zero means it kept the schedule).",
    ]
    if at_target.failures:
        report.notes.append(f"Failures at the target rate: {failure_text(at_target)}.")
    report.raw = {
        "ceiling_at_target": ceiling_at_target.as_dict(),
        "at_target": at_target.as_dict(),
        "ceiling_sweep": [step.as_dict() for step in ceiling_sweep.steps],
        "sweep": [step.as_dict() for step in sweep.steps],
        "references": {ref.label: [step.as_dict() for step in ref.steps] for ref in references},
        "rss_bytes": rss,
        "mean_body_bytes": mean_body,
    }
    return report
