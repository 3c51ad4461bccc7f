"""Time-to-notify: from ``POST /threats/report`` to the alert arriving at a loopback webhook receiver.

Target (issue 5): p99 <= 100 ms at 200 reports/s. Needs real alert delivery (the notify side).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bench.results import BenchmarkReport
from bench.scale import Scale

TITLE = "Time-to-notify (report to webhook receiver)"


def run(scale: Scale, workdir: Path) -> BenchmarkReport:
    if importlib.util.find_spec("safesphere.notify") is None:
        return BenchmarkReport.not_landed(
            "notify", TITLE, "alert delivery (webhooks, the notify side) is not in this tree yet."
        )
    return BenchmarkReport.not_landed(
        "notify", TITLE, "alert delivery has landed but this harness does not drive its webhook receiver yet."
    )
