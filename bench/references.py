"""The references between the ceiling and SafeSphere (``bench/ceiling.py``): the least work the documented
endpoint needs per request, measured the same way, so each target share of the ceiling can be read
against what that work alone leaves of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import LoadResult
from bench.measure import at_rate, capacity_sweep
from bench.results import Sweep
from bench.scale import Scale
from bench.servers import ServerProcess, ceiling_server

REFERENCES = {
    "validated": "validation reference (the request schema only)",
    "durable": "durable reference (the schema, then one row committed)",
}
"""Path segment -> label, lightest first."""
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
            return ceiling_server(workdir / f"reference-{kind}-{name}-{run}")

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
            ceiling.url,
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


def reference_rows(sweeps: list[Sweep], ceiling_rps: float) -> list[list[str]]:
    """A capacity row per reference, with its share of the ceiling."""
    return [
        [f"{sweep.label} capacity", "", f"{sweep.capacity_rps:,.1f}", "", "", "", "", share]
        for sweep in sweeps
        for share in [_share(sweep, ceiling_rps)]
    ]


def reference_note(sweeps: list[Sweep], ceiling_rps: float, target_share: float) -> str:
    """What the references say about a target share of the ceiling."""
    validated, durable = sweeps
    return (
        f"The references are minimal FastAPI apps on the same server settings (`bench/ceiling.py`), doing "
        f"only the least the documented endpoint needs: validating the body with SafeSphere's own request "
        f"schema reaches {_share(validated, ceiling_rps)} of the ceiling; validating it and committing it "
        f"as one durable row before answering reaches {_share(durable, ceiling_rps)}. "
        + _verdict(validated, durable, ceiling_rps, target_share)
    )


def _verdict(validated: Sweep, durable: Sweep, ceiling_rps: float, target_share: float) -> str:
    share = f"{target_share:.0%}"
    if validated.capacity_rps < target_share * ceiling_rps:
        return (
            f"So a {share} share is out of reach of any implementation that validates the documented body "
            "with this framework, before it stores anything or does any of the endpoint's own work."
        )
    if durable.capacity_rps < target_share * ceiling_rps:
        return (
            f"A {share} share leaves less per request than validating it and committing it in a "
            "transaction of its own; it would take committing many requests per transaction (group commit) "
            "before any of the endpoint's own work."
        )
    return f"The {share} target is within what that minimal work leaves."


def _share(sweep: Sweep, ceiling_rps: float) -> str:
    return f"{sweep.capacity_rps / ceiling_rps:.0%}" if ceiling_rps > 0 else "n/a"
