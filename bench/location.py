"""Location update with full scoring (``POST /location/update``), against the framework's ceiling.

Targets (issue 5): >= 30% of the ceiling; p99 <= 30 ms at 300 updates/s with 100k alerts, 10k zones,
50k tourists and 1M fixes loaded; latency at 1M alerts <= 1.5x latency at 1k alerts. Loading that
city is ``bench/location_scale.py``'s job (written with the tourist side); until it exists this
benchmark measures a city made through the API only, and says so.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from bench.city import location_bodies, location_requests, register_tourists
from bench.ingestion import noop_requests
from bench.measure import measure_server
from bench.results import LOAD_HEADERS, BenchmarkReport, Target, load_row, ms
from bench.scale import Scale
from bench.servers import ServerProcess, ceiling_server, has_route, safesphere_server

TITLE = "Location update with full scoring (POST /location/update)"
TARGET_SHARE_OF_CEILING = 0.30
TARGET_P99_MS = 30.0
API_TOURISTS = 50
"""Tourists registered through the API when the bulk loader is not there."""


def scale_loader_landed() -> bool:
    return importlib.util.find_spec("bench.location_scale") is not None


def run(scale: Scale, workdir: Path) -> BenchmarkReport:
    probe_dir = workdir / "probe"
    probe_dir.mkdir(parents=True, exist_ok=True)
    with safesphere_server(probe_dir) as server:
        if not has_route(server.url, "post", "/location/update"):
            return BenchmarkReport.not_landed(
                "location", TITLE, "`POST /location/update` (issue 3) is not on this server yet."
            )
    tourists = API_TOURISTS if scale.name == "full" else 3
    bodies = location_bodies(scale.distinct_bodies)

    def fixes_for(server: ServerProcess) -> list[dict[str, Any]]:
        return location_requests(
            register_tourists(server.url, tourists), location_bodies(scale.distinct_bodies)
        )

    at_target, sweep, rss = measure_server(
        lambda name: safesphere_server(workdir / f"safesphere-{name}"),
        fixes_for,
        scale=scale,
        target_rps=scale.location_rps,
        label="SafeSphere POST /location/update",
        start_rps=scale.location_rps / 10,
    )
    ceiling_at_target, ceiling_sweep, _ = measure_server(
        lambda name: ceiling_server(workdir / f"ceiling-{name}"),
        lambda _server: noop_requests(bodies),
        scale=scale,
        target_rps=scale.location_rps,
        label="ceiling (no-op POST)",
        start_rps=scale.location_rps,
    )
    share = sweep.capacity_rps / ceiling_sweep.capacity_rps if ceiling_sweep.capacity_rps else 0.0
    report = BenchmarkReport(key="location", title=TITLE, headers=LOAD_HEADERS)
    report.rows = [
        load_row("ceiling at target rate", ceiling_at_target),
        load_row("SafeSphere at target rate", at_target),
        ["ceiling capacity", "", f"{ceiling_sweep.capacity_rps:,.1f}", "", "", "", "", "100%"],
        ["SafeSphere capacity", "", f"{sweep.capacity_rps:,.1f}", "", "", "", "", f"{share:.0%}"],
    ]
    report.targets = [
        Target(
            f">= {TARGET_SHARE_OF_CEILING:.0%} of the ceiling",
            f"{share:.0%}",
            share >= TARGET_SHARE_OF_CEILING,
        ),
        Target(
            f"p99 <= {TARGET_P99_MS:.0f} ms at {scale.location_rps:.0f} updates/s",
            f"p99 {ms(at_target.p99_ms)} ms",
            at_target.p99_ms <= TARGET_P99_MS and not at_target.failures,
        ),
    ]
    report.sweeps = [ceiling_sweep, sweep]
    city = "the bulk-loaded city" if scale_loader_landed() else f"{tourists} tourists made through the API"
    report.notes = [
        f"Data: {city}. The 100k alerts / 10k zones / 50k tourists / 1M fixes scale needs "
        "`bench/location_scale.py` (tourist side), "
        + ("landed." if scale_loader_landed() else "not landed yet."),
        f"Server RSS after the run: {rss / 2**20:,.0f} MiB.",
    ]
    report.raw = {
        "at_target": at_target.as_dict(),
        "sweep": [s.as_dict() for s in sweep.steps],
        "rss_bytes": rss,
    }
    return report
