"""One server measured the same way in every benchmark: latency at the target rate, then its capacity."""

from __future__ import annotations

import itertools
from typing import Any

from bench.load import LoadResult, find_capacity, run_load
from bench.results import Sweep
from bench.scale import Scale

SEQ_STRIDE = 10_000_000
"""Each load run numbers its requests from a fresh base, so no two runs reuse an incident id."""

_runs = itertools.count(1)


def at_rate(
    url: str, requests: list[dict[str, Any]], *, rate: float, duration_s: float, warmup_s: float
) -> LoadResult:
    return run_load(
        url, requests, rate=rate, duration_s=duration_s, warmup_s=warmup_s, seq_base=next(_runs) * SEQ_STRIDE
    )


def measure_server(
    url: str, requests: list[dict[str, Any]], *, scale: Scale, target_rps: float, label: str, start_rps: float
) -> tuple[LoadResult, Sweep]:
    """p50/p95/p99 at ``target_rps`` and the capacity found by an open-loop sweep from ``start_rps``."""
    at_target = at_rate(url, requests, rate=target_rps, duration_s=scale.duration_s, warmup_s=scale.warmup_s)
    capacity, steps = find_capacity(
        lambda rate: at_rate(url, requests, rate=rate, duration_s=scale.step_s, warmup_s=scale.warmup_s / 2),
        start_rps=start_rps,
        factor=scale.sweep_factor,
        max_steps=scale.sweep_steps,
    )
    return at_target, Sweep(label=label, steps=steps, capacity_rps=capacity)
