"""Location update with full scoring (``POST /location/update``), against the framework's ceiling.

Targets (issue 17): >= 20% of the ceiling and >= 0.9x the group-commit reference
(``bench/references.py``), <= 0.6 ms of server CPU per update; p99 <= 30 ms at 300 updates/s with 100k
alerts, 10k zones, 50k tourists and 1M fixes loaded (``bench/location_scale.py``); latency at 1M alerts
<= 1.5x latency at 1k alerts (issue 5). The Safety Score document's figure is < 200 ms typical.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import location_scale
from bench.city import location_bodies, location_requests, register_tourists
from bench.load import LoadResult
from bench.measure import at_rate, measure_server
from bench.references import baselines, ceiling_at_rate, reference_note
from bench.results import LOAD_HEADERS, BenchmarkReport, Target, cpu_ms, load_row, ms, times
from bench.scale import Scale
from bench.servers import ONE_CLIENT_FLEET, ServerProcess, has_route, safesphere_server

TITLE = "Location update with full scoring (POST /location/update)"
TARGET_SHARE_OF_CEILING = 0.20
TARGET_TIMES_REFERENCE = 0.9
TARGET_CPU_MS = 0.6
"""Server CPU per update answered, at the capacity step."""
TARGET_P99_MS = 30.0
TARGET_ALERT_GROWTH = 1.5
API_TOURISTS = 50
"""The benchmark's own tourists, registered through the API, posting into the loaded city."""
ALERT_COUNTS = {"full": (1_000, 100_000, 1_000_000), "tiny": (10, 200, 1_000)}
"""Alerts loaded for the (small, measured, large) runs: the growth target compares small and large."""
SWEEP_START_RPS = 10.0
"""The capacity sweep starts at a tenth of the target rate, never below this: at the tiny scale's 1/s
a half-second step sends no request and the capacity read 0."""


def _cities(scale: Scale, workdir: Path) -> tuple[dict[int, Path], float]:
    """One loaded city per alert count (people, fixes and zones loaded once and copied); load seconds."""
    size = location_scale.SIZES[scale.location_scale]
    began = time.perf_counter()
    base = workdir / "city-base"
    location_scale.load(base, location_scale.CitySize(0, size.zones, size.tourists, size.fixes))
    cities = {}
    for count in ALERT_COUNTS[scale.name]:
        cities[count] = location_scale.copy(base, workdir / f"city-{count}")
        location_scale.add_alerts(cities[count], count)
    return cities, time.perf_counter() - began


def _alert_growth(
    scale: Scale,
    workdir: Path,
    cities: dict[int, Path],
    fixes_for: Callable[[ServerProcess], list[dict[str, Any]]],
) -> dict[int, LoadResult]:
    """Latency at the target rate with few and with many alerts, everything else equal."""
    results = {}
    small, _, large = ALERT_COUNTS[scale.name]
    for count in (small, large):
        data_dir = location_scale.copy(cities[count], workdir / f"growth-{count}")
        with safesphere_server(data_dir, **ONE_CLIENT_FLEET) as server:
            results[count] = at_rate(
                server,
                fixes_for(server),
                rate=scale.location_rps,
                duration_s=scale.duration_s,
                warmup_s=scale.warmup_s,
            )
    return results


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
    cities, load_s = _cities(scale, workdir)
    measured = cities[ALERT_COUNTS[scale.name][1]]

    def fixes_for(server: ServerProcess) -> list[dict[str, Any]]:
        return location_requests(
            register_tourists(server.url, tourists), location_bodies(scale.distinct_bodies)
        )

    at_target, sweep, rss = measure_server(
        lambda name: safesphere_server(
            location_scale.copy(measured, workdir / f"safesphere-{name}"), **ONE_CLIENT_FLEET
        ),
        fixes_for,
        scale=scale,
        target_rps=scale.location_rps,
        label="SafeSphere POST /location/update",
        start_rps=max(scale.location_rps / 10, SWEEP_START_RPS),
    )
    ceiling_at_target = ceiling_at_rate(bodies, rate=scale.location_rps, scale=scale, workdir=workdir)
    measured_baselines = baselines(
        "location", bodies, scale=scale, workdir=workdir, start_rps=max(scale.location_rps, SWEEP_START_RPS)
    )
    ceiling_sweep, references = measured_baselines.ceiling, measured_baselines.references
    share = sweep.capacity_rps / ceiling_sweep.capacity_rps if ceiling_sweep.capacity_rps else 0.0
    group = measured_baselines.group
    cpu = sweep.cpu_ms_per_request
    report = BenchmarkReport(key="location", title=TITLE, headers=LOAD_HEADERS)
    report.rows = [
        load_row("ceiling at target rate", ceiling_at_target),
        load_row("SafeSphere at target rate", at_target),
        *measured_baselines.rows(),
        measured_baselines.row("SafeSphere", sweep),
    ]
    report.targets = [
        Target(
            f">= {TARGET_SHARE_OF_CEILING:.0%} of the ceiling",
            f"{share:.1%}",
            share >= TARGET_SHARE_OF_CEILING,
        ),
        Target(
            f">= {TARGET_TIMES_REFERENCE:.1f}x the group-commit reference's capacity",
            times(sweep.capacity_rps, group.capacity_rps),
            group.capacity_rps > 0 and sweep.capacity_rps >= TARGET_TIMES_REFERENCE * group.capacity_rps,
        ),
        Target(
            f"<= {TARGET_CPU_MS:.1f} ms server CPU per update (at capacity)",
            f"{cpu_ms(cpu)} ms (group-commit reference {cpu_ms(group.cpu_ms_per_request)} ms)",
            cpu <= TARGET_CPU_MS,
        ),
        Target(
            f"p99 <= {TARGET_P99_MS:.0f} ms at {scale.location_rps:.0f} updates/s",
            f"p99 {ms(at_target.p99_ms)} ms",
            at_target.p99_ms <= TARGET_P99_MS and not at_target.failures,
        ),
    ]
    growth = _alert_growth(scale, workdir, cities, fixes_for)
    small, measured_count, large = ALERT_COUNTS[scale.name]
    growth_p50 = growth[large].p50_ms / growth[small].p50_ms if growth[small].p50_ms else 0.0
    report.rows += [
        load_row(f"SafeSphere with {small:,} alerts", growth[small]),
        load_row(f"SafeSphere with {large:,} alerts", growth[large]),
    ]
    report.targets.append(
        Target(
            f"p50 with {large:,} alerts <= {TARGET_ALERT_GROWTH}x p50 with {small:,}",
            f"{growth_p50:.2f}x (p99 {ms(growth[small].p99_ms)} -> {ms(growth[large].p99_ms)} ms)",
            growth_p50 <= TARGET_ALERT_GROWTH,
        )
    )
    report.sweeps = [ceiling_sweep, *references, sweep]
    size = location_scale.SIZES[scale.location_scale]
    report.notes = [
        f"Data: {measured_count:,} alerts, {size.zones:,} zones, {size.tourists:,} tourists and "
        f"{size.fixes:,} fixes bulk-loaded by `bench/location_scale.py` "
        f"({load_s:.0f} s for all the cities of this run); "
        f"{tourists} more tourists registered through the API post the measured fixes.",
        reference_note(measured_baselines, TARGET_SHARE_OF_CEILING),
        f"Server RSS after the target run at this scale: {rss / 2**20:,.0f} MiB.",
    ]
    report.raw = {
        "at_target": at_target.as_dict(),
        "sweep": [s.as_dict() for s in sweep.steps],
        "rss_bytes": rss,
        "alert_growth": {str(count): result.as_dict() for count, result in growth.items()},
    }
    return report
