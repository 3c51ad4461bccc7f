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


def load_row(label: str, result: LoadResult, ceiling_rps: float | None = None) -> list[str]:
    """A table row: offered, achieved, p50/p95/p99, failures, and the share of the ceiling."""
    failures = sum(result.failures.values())
    return [
        label,
        f"{result.offered_rps:,.0f}",
        f"{result.achieved_rps:,.1f}",
        ms(result.p50_ms),
        ms(result.p95_ms),
        ms(result.p99_ms),
        str(failures),
        ratio(result.achieved_rps, ceiling_rps) if ceiling_rps else "",
    ]


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


LOAD_HEADERS = ["run", "offered/s", "achieved/s", "p50 ms", "p95 ms", "p99 ms", "failed", "of ceiling"]
