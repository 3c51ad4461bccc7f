"""The simulator's closing summary as a rich table (the CLI prints it)."""

from __future__ import annotations

from rich.table import Table

from safesphere.simulate.runner import Summary
from safesphere.simulate.stats import KindStats

LABELS = {"fix": "location fixes", "report": "threat reports", "sos": "SOS"}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _row(label: str, counted: KindStats) -> list[str]:
    return [
        label,
        str(counted.sent),
        str(counted.accepted),
        str(counted.rejected),
        str(counted.failed),
        _ms(counted.percentile_ms(0.50)),
        _ms(counted.percentile_ms(0.95)),
    ]


def summary_table(summary: Summary) -> Table:
    table = Table(title=f"Simulation summary ({summary.elapsed_s:.1f} s)")
    for column in ("", "sent", "accepted", "rejected", "failed", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if not column else "right")
    for kind, counted in summary.stats.kinds.items():
        table.add_row(*_row(LABELS[kind], counted))
    table.add_row(*_row("total", summary.stats.total()), style="bold")
    return table


def stage_lines(summary: Summary) -> list[str]:
    stage = summary.stage
    drifters = sum(t.drifter for t in stage.tourists)
    zones = stage.zones["created"] + stage.zones["reused"]
    drifting = (
        f"{drifters} drifting into risky zones"
        if zones
        else f"{drifters} drifters, but no zones to drift into"
    )
    lines = [
        f"tourists: {len(stage.tourists)} ({sum(t.night for t in stage.tourists)} at night, {drifting})",
        f"engines: {len(stage.cameras)} ({sum(c.site is None for c in stage.cameras)} phones)",
        f"zones: {stage.zones['created']} created, {stage.zones['reused']} reused; "
        f"places: {stage.places['created']} created, {stage.places['reused']} reused",
    ]
    if summary.still_spooled:
        lines.append(
            f"{summary.still_spooled} threat reports still in the engines' spools (server unreachable)"
        )
    lines += [f"warning: {warning}" for warning in stage.warnings]
    lines += [f"recent error: {error}" for error in summary.stats.recent_errors]
    return lines
