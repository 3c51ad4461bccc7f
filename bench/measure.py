"""One server measured the same way in every benchmark: latency at the target rate, then its capacity.

The two measurements run against separate fresh servers, so a sweep that overloads one cannot spoil
the other's numbers (at a scale whose numbers mean nothing, ``tiny``, one server serves both).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from bench.load import LoadResult, find_capacity, run_load
from bench.results import Sweep
from bench.scale import Scale
from bench.servers import ServerProcess

SEQ_STRIDE = 10_000_000
"""Each load run numbers its requests from a fresh base, so no two runs reuse an incident id."""

_runs = itertools.count(1)

Requests = list[dict[str, Any]]


def at_rate(
    server: ServerProcess, requests: Requests, *, rate: float, duration_s: float, warmup_s: float
) -> LoadResult:
    """``rate`` requests/s at ``server``, with the CPU its processes used in the measured window."""
    return run_load(
        server.url, requests, rate=rate, duration_s=duration_s, warmup_s=warmup_s,
        seq_base=next(_runs) * SEQ_STRIDE, cpu_pids=server.cpu_pids(),
    )  # fmt: skip


def measure_server(
    start: Callable[[str], ServerProcess],
    requests: Callable[[ServerProcess], Requests],
    *,
    scale: Scale,
    target_rps: float,
    label: str,
    start_rps: float,
) -> tuple[LoadResult, Sweep, int]:
    """p50/p95/p99 at ``target_rps``, the capacity found by an open-loop sweep from ``start_rps``, and the
    server's RSS after the target run. ``start(name)`` makes a fresh server; ``requests`` builds the load
    for it (engine keys and tokens belong to one server's database)."""
    with start("target") as server:
        at_target = at_rate(
            server,
            requests(server),
            rate=target_rps,
            duration_s=scale.duration_s,
            warmup_s=scale.warmup_s,
        )
        rss = server.rss_bytes()
        if not scale.fresh_server_per_sweep:
            kept = capacity_sweep(
                lambda _name: nullcontext(server), requests, scale=scale, label=label, start_rps=start_rps
            )
            return at_target, kept, rss
    return at_target, capacity_sweep(start, requests, scale=scale, label=label, start_rps=start_rps), rss


def capacity_sweep(
    start: Callable[[str], AbstractContextManager[ServerProcess]],
    requests: Callable[[ServerProcess], Requests],
    *,
    scale: Scale,
    label: str,
    start_rps: float,
    step_share: float = 1.0,
) -> Sweep:
    """The capacity of a fresh server (``start("sweep")``; or one kept running, in a ``nullcontext``),
    found by an open-loop sweep from ``start_rps``; ``step_share`` shortens each step (and its warm-up)
    for a server that needs less time to settle."""
    step_s, warmup_s = scale.step_s * step_share, scale.warmup_s / 2 * step_share
    with start("sweep") as server:
        load = requests(server)
        capacity, steps = find_capacity(
            lambda rate: at_rate(server, load, rate=rate, duration_s=step_s, warmup_s=warmup_s),
            start_rps=start_rps,
            factor=scale.sweep_factor,
            max_steps=scale.sweep_steps,
            refine=scale.sweep_refine,
        )
    return Sweep(label=label, steps=steps, capacity_rps=capacity)
