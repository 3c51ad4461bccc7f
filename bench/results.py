"""What a benchmark hands the report: its tables, its targets met or missed, and the data for plots."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from bench.load import LoadResult


@dataclass(frozen=True)
class Target:
    goal: str
    measured: str
    met: bool


@dataclass
class Sweep:
    """A capacity sweep: one load result per offered rate, for one server."""

    label: str
    steps: list[LoadResult]
    capacity_rps: float

    @property
    def capacity_step(self) -> LoadResult | None:
        """The step whose achieved rate is the capacity (its CPU per request is the sweep's)."""
        return next((step for step in self.steps if step.achieved_rps == self.capacity_rps), None)

    @property
    def cpu_ms_per_request(self) -> float:
        step = self.capacity_step
        return step.cpu_ms_per_request if step else math.nan


@dataclass
class BenchmarkReport:
    key: str
    title: str
    landed: bool = True
    not_landed_reason: str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    sweeps: list[Sweep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def not_landed(cls, key: str, title: str, reason: str) -> BenchmarkReport:
        return cls(key=key, title=title, landed=False, not_landed_reason=reason)


def ratio(value: float, ceiling: float) -> str:
    return f"{value / ceiling:.0%}" if ceiling > 0 else "n/a"


def ms(value: float) -> str:
    """Milliseconds for a table; ``n/a`` when nothing completed to measure."""
    return "n/a" if math.isnan(value) else f"{value:.1f}"


def cpu_ms(value: float) -> str:
    """CPU milliseconds per request for a table; ``n/a`` when not read."""
    return "n/a" if math.isnan(value) else f"{value:.2f}"


def times(value: float, reference: float) -> str:
    """``0.42x``: a rate against a reference's."""
    return f"{value / reference:.2f}x" if reference > 0 else "n/a"


def load_row(label: str, result: LoadResult) -> list[str]:
    """A table row (``LOAD_HEADERS``) for a run at a fixed rate: offered, achieved, p50/p95/p99, failures,
    and the server's CPU per request answered."""
    failures = sum(result.failures.values())
    return [
        label,
        f"{result.offered_rps:,.0f}",
        f"{result.achieved_rps:,.1f}",
        ms(result.p50_ms),
        ms(result.p95_ms),
        ms(result.p99_ms),
        str(failures),
        cpu_ms(result.cpu_ms_per_request),
        "",
        "",
    ]


def capacity_row(label: str, sweep: Sweep, *, ceiling_rps: float, reference_rps: float) -> list[str]:
    """A table row (``LOAD_HEADERS``) for a capacity: the rate, the CPU per request at that step, and its
    share of the ceiling's and of the group-commit reference's capacity."""
    return [
        f"{label} capacity", "", f"{sweep.capacity_rps:,.1f}", "", "", "", "",
        cpu_ms(sweep.cpu_ms_per_request),
        f"{sweep.capacity_rps / ceiling_rps:.1%}" if ceiling_rps > 0 else "n/a",
        times(sweep.capacity_rps, reference_rps),
    ]  # fmt: skip


FAILURE_MEANINGS = {
    "unfinished": "no answer before the generator gave up (15 s after the last send)",
    "ConnectionRefusedError": "connection refused",
    "IncompleteReadError": "connection closed mid-response",
    "503": "HTTP 503 (refused at once: too many device writes in flight; devices retry)",
}


def failure_text(result: LoadResult) -> str:
    """``unfinished 120 (no answer ...), 503 x 4``: what went wrong, in words a reader can act on."""
    parts = []
    for kind, count in sorted(result.failures.items()):
        meaning = FAILURE_MEANINGS.get(kind, f"HTTP {kind}" if kind.isdigit() else kind)
        parts.append(f"{count} x {meaning}")
    return ", ".join(parts)


LOAD_HEADERS = [
    "run", "offered/s", "achieved/s", "p50 ms", "p95 ms", "p99 ms", "failed", "CPU ms/req", "of ceiling",
    "of group-commit ref",
]  # fmt: skip
