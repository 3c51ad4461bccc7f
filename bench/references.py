"""The references between the ceiling and SafeSphere (``bench/ceiling.py``), measured the same way in the
same run: the durable reference (the body validated, then one row committed per request) and the
group-commit reference (the same rows as SafeSphere, committed up to 64 requests per transaction), so
each throughput reads as a share of the ceiling and as a multiple of what writing its rows takes.

The validation-only reference of issue 5 is gone: it showed that validating the body costs the share
issue 5 asked for; the group-commit reference, which validates the same way and writes the real rows,
answers the question the targets now ask (issue 17), and dropping it keeps ``make bench`` short."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import LoadResult
from bench.measure import at_rate, capacity_sweep
from bench.results import Sweep, capacity_row, cpu_ms, ratio
from bench.scale import Scale
from bench.servers import ServerProcess, ceiling_server

GROUP = "group"
REFERENCES = {
    "durable": "durable reference (the schema, then one row committed)",
    GROUP: "group-commit reference (the same rows, up to 64 requests per transaction)",
}
"""Path segment -> label."""
STEP_SHARE = 0.6
"""A reference is a small app with nothing to warm up: 3 s steps instead of 5 keep `make bench` short."""


def post_requests(path: str, bodies: list[str]) -> list[dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    return [{"method": "POST", "path": path, "headers": headers, "body": body} for body in bodies]


def reference_sweeps(
    kind: str, bodies: list[str], *, scale: Scale, workdir: Path, start_rps: float
) -> list[Sweep]:
    """The capacity of each reference for ``kind`` (``threat`` or ``location``), each on a fresh server."""
    sweeps = []
    for name, label in REFERENCES.items():
        requests = post_requests(f"/reference/{kind}/{name}", bodies)

        def server(run: str, name: str = name) -> ServerProcess:
            return ceiling_server(workdir / f"reference-{kind}-{name}-{run}", group_commit=name == GROUP)

        def load(_server: ServerProcess, requests: list[dict[str, Any]] = requests) -> list[dict[str, Any]]:
            return requests

        sweeps.append(
            capacity_sweep(server, load, scale=scale, label=label, start_rps=start_rps, step_share=STEP_SHARE)
        )
    return sweeps


def ceiling_at_rate(bodies: list[str], *, rate: float, scale: Scale, workdir: Path) -> LoadResult:
    """The ceiling's latency at ``rate`` on a fresh server, for a row's target-rate comparison."""
    with ceiling_server(workdir / "ceiling-target") as ceiling:
        return at_rate(
            ceiling,
            post_requests("/noop", bodies),
            rate=rate,
            duration_s=scale.duration_s,
            warmup_s=scale.warmup_s,
        )


@dataclass(frozen=True)
class Baselines:
    """The ceiling's and the references' capacity for one kind of request body."""

    ceiling: Sweep
    references: list[Sweep]
    """In the order of ``REFERENCES``."""

    def reference(self, name: str) -> Sweep:
        return self.references[list(REFERENCES).index(name)]

    @property
    def group(self) -> Sweep:
        return self.reference(GROUP)

    def rows(self) -> list[list[str]]:
        """The ceiling's and each reference's capacity row (``LOAD_HEADERS``)."""
        return [
            self.row("ceiling", self.ceiling),
            *(self.row(sweep.label, sweep) for sweep in self.references),
        ]

    def row(self, label: str, sweep: Sweep) -> list[str]:
        """``sweep``'s capacity row with its share of the ceiling and of the group-commit reference."""
        return capacity_row(
            label, sweep, ceiling_rps=self.ceiling.capacity_rps, reference_rps=self.group.capacity_rps
        )


_measured: dict[tuple[Path, str, str], Baselines] = {}
"""Baselines by (the run's scratch directory, scale, kind): each is measured once per run."""


def baselines(kind: str, bodies: list[str], *, scale: Scale, workdir: Path, start_rps: float) -> Baselines:
    """The ceiling's and the references' capacity for ``kind`` (``threat`` or ``location``), measured by
    the first row of a run that needs them and shared by the others (``workdir`` is a row's directory
    in the run's scratch directory): every row of a run compares against the same figures."""
    run_key = (workdir.parent, scale.name, kind)
    if run_key not in _measured:
        ceiling = capacity_sweep(
            lambda name: ceiling_server(workdir / f"ceiling-{name}"),
            lambda _server: post_requests("/noop", bodies),
            scale=scale,
            label="ceiling (no-op POST)",
            start_rps=start_rps,
        )
        references = reference_sweeps(kind, bodies, scale=scale, workdir=workdir, start_rps=start_rps)
        _measured[run_key] = Baselines(ceiling, references)
    return _measured[run_key]


def reference_note(base: Baselines, target_share: float) -> str:
    """What the references say about a target share of the ceiling."""
    durable, group = base.reference("durable"), base.group
    ceiling_rps = base.ceiling.capacity_rps
    verdict = (
        f"The {target_share:.0%} target is within what writing the same rows with group commit reaches."
        if group.capacity_rps >= target_share * ceiling_rps
        else f"A {target_share:.0%} share is beyond even the group-commit reference on this run: it takes "
        "doing less per request than writing these rows with this framework."
    )
    return (
        "The references are minimal FastAPI apps on the same server settings (`bench/ceiling.py`), each "
        "validating the body with SafeSphere's own request schema: committing it as one durable row "
        f"per request reaches {ratio(durable.capacity_rps, ceiling_rps)} of the ceiling "
        f"({cpu_ms(durable.cpu_ms_per_request)} ms CPU per request); writing the same rows as SafeSphere "
        "into its own database, one writer thread committing up to 64 requests per transaction "
        f"(`bench/group_commit.py`, rows as counted in `bench/reference_rows.py`), reaches "
        f"{ratio(group.capacity_rps, ceiling_rps)} ({cpu_ms(group.cpu_ms_per_request)} ms CPU per request). "
        + verdict
    )
