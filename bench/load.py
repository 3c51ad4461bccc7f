"""Running the load generator from the benchmark process, and the statistics of what it measured."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.servers import REPO_ROOT, clean_env

CONNECTIONS = 256
"""Enough concurrent requests to keep a saturated server's queue full without exhausting file handles."""

SATURATED_ERROR_SHARE = 0.01
SATURATED_ACHIEVED_SHARE = 0.90
"""A step is saturated when under 90% of the offered rate completes or over 1% fail: the server is full."""

SATURATED_P99_MS = 2000.0
"""Latency past two seconds means the queue is growing without bound, whatever the completion rate."""


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class LoadResult:
    offered_rps: float
    achieved_rps: float
    requests: int
    ok: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    send_lag_p99_ms: float
    generator_cpu_s: float
    failures: dict[str, int] = field(default_factory=dict)
    server_cpu_s: float = math.nan
    """The server's CPU seconds in the measured window (NaN when not read)."""

    @property
    def failure_share(self) -> float:
        return (self.requests - self.ok) / self.requests if self.requests else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """The server's CPU per request answered 2xx in the measured window (NaN when not read)."""
        return self.server_cpu_s * 1000 / self.ok if self.ok else math.nan

    @property
    def saturated(self) -> bool:
        return (
            self.achieved_rps < SATURATED_ACHIEVED_SHARE * self.offered_rps
            or self.failure_share > SATURATED_ERROR_SHARE
            or self.p99_ms > SATURATED_P99_MS
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> LoadResult:
        latencies = raw["latencies_ms"]
        failures = {k: v for k, v in raw["statuses"].items() if not k.startswith("2")}
        failures.update(raw["errors"])
        return cls(
            offered_rps=raw["offered_rps"],
            achieved_rps=round(raw["achieved_rps"], 1),
            requests=raw["requests"],
            ok=raw["ok"],
            p50_ms=round(percentile(latencies, 0.50), 2),
            p95_ms=round(percentile(latencies, 0.95), 2),
            p99_ms=round(percentile(latencies, 0.99), 2),
            max_ms=round(max(latencies, default=float("nan")), 2),
            send_lag_p99_ms=round(percentile(raw["send_lag_ms"], 0.99), 2),
            generator_cpu_s=round(raw["generator_cpu_s"], 2),
            failures=failures,
            server_cpu_s=math.nan if raw.get("server_cpu_s") is None else round(raw["server_cpu_s"], 3),
        )


def run_load(
    url: str,
    requests: list[dict[str, Any]],
    *,
    rate: float,
    duration_s: float,
    warmup_s: float = 1.0,
    seq_base: int = 0,
    cpu_pids: list[int] | None = None,
) -> LoadResult:
    """Offer ``rate`` requests/s for ``duration_s`` (after a discarded warm-up) from a separate process;
    with ``cpu_pids``, the CPU those server processes used in the measured window."""
    parts = urlsplit(url)
    plan = {
        "host": parts.hostname,
        "port": parts.port,
        "rate": rate,
        "duration_s": duration_s,
        "warmup_s": warmup_s,
        "connections": CONNECTIONS,
        "drain_s": 15.0,
        "seq_base": seq_base,
        "cpu_pids": cpu_pids or [],
        "requests": requests,
    }
    with tempfile.TemporaryDirectory(prefix="safesphere-load-") as scratch:
        plan_path, result_path = Path(scratch) / "plan.json", Path(scratch) / "result.json"
        plan_path.write_text(json.dumps(plan))
        subprocess.run(
            [sys.executable, "-m", "bench.loadgen", str(plan_path), str(result_path)],
            cwd=REPO_ROOT,
            env=clean_env(Path(scratch)),
            check=True,
        )
        return LoadResult.from_raw(json.loads(result_path.read_text()))


def find_capacity(
    run_at: Callable[[float], LoadResult],
    *,
    start_rps: float,
    factor: float,
    max_steps: int,
    refine: int = 0,
) -> tuple[float, list[LoadResult]]:
    """Raise the offered rate step by step until the server saturates, then narrow the gap between the
    last healthy rate and the saturated one ``refine`` times (geometric halves: with a factor of 1.6, two
    of them leave 12%); capacity = the best achieved rate of a step with at most 1% failed."""
    steps: list[LoadResult] = []
    rate = start_rps
    for _ in range(max_steps):
        result = run_at(rate)
        steps.append(result)
        if result.saturated:
            break
        rate *= factor
    if len(steps) >= 2 and steps[-1].saturated:
        low, high = steps[-2].offered_rps, steps[-1].offered_rps
        for _ in range(refine):
            middle = math.sqrt(low * high)
            result = run_at(middle)
            steps.append(result)
            low, high = (low, middle) if result.saturated else (middle, high)
    steps.sort(key=lambda step: step.offered_rps)  # plotted as a line
    healthy = [step.achieved_rps for step in steps if step.failure_share <= SATURATED_ERROR_SHARE]
    return max(healthy, default=0.0), steps
