"""How big a benchmark run is: ``full`` for the published numbers, ``tiny`` to check the harness runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    duration_s: float
    """Measured seconds at each benchmark's target rate."""
    warmup_s: float
    step_s: float
    """Measured seconds of each capacity-sweep step."""
    sweep_steps: int
    sweep_factor: float
    sweep_refine: int
    """Steps that narrow the capacity down between the last healthy rate and the first saturated one."""
    ingestion_rps: float
    """The issue's target rate for incident ingestion (issue 17: p99 <= 50 ms at 300 reports/s)."""
    location_rps: float
    """The issue's target rate for location updates (p99 <= 30 ms at 300 updates/s)."""
    notify_rps: float
    """The issue's target rate for time-to-notify (p99 <= 100 ms at 200 reports/s)."""
    distinct_bodies: int
    """Distinct incident bodies cycled through (each sent with its own id)."""
    rescore_fixes: int
    location_scale: str
    """The size name passed to bench/location_scale.py's loader."""
    fresh_server_per_sweep: bool = True
    """A row's sweeps each get a fresh server, so one sweep's data cannot sway the next; ``tiny`` lets a
    deployment serve all its sweeps, since there start-ups are most of the time and numbers mean nothing."""


FULL = Scale(
    name="full",
    duration_s=15.0,
    warmup_s=2.0,
    step_s=5.0,
    sweep_steps=8,
    sweep_factor=1.6,
    sweep_refine=2,
    ingestion_rps=300.0,
    location_rps=300.0,
    notify_rps=200.0,
    distinct_bodies=200,
    rescore_fixes=100_000,
    location_scale="full",
)

TINY = Scale(
    name="tiny",
    duration_s=1.0,
    warmup_s=0.2,
    step_s=0.5,
    sweep_steps=2,
    sweep_factor=2.0,
    sweep_refine=0,
    ingestion_rps=20.0,
    location_rps=10.0,
    notify_rps=10.0,
    distinct_bodies=5,
    rescore_fixes=200,
    location_scale="tiny",
    fresh_server_per_sweep=False,
)

SCALES = {scale.name: scale for scale in (FULL, TINY)}
