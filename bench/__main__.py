"""``python -m bench [--scale full|tiny] [--only NAME]``: run the benchmarks, rewrite docs/BENCHMARKS.md."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import admission, ingestion, instances, location, memory, notify, rescoring
from bench.report import write
from bench.results import BenchmarkReport
from bench.scale import SCALES, Scale
from bench.servers import REPO_ROOT

BENCHMARKS: dict[str, Callable[[Scale, Path], BenchmarkReport]] = {
    "ingestion": ingestion.run,
    "location": location.run,
    "rescoring": rescoring.run,
    "notify": notify.run,
    "memory": memory.run,
    "admission": admission.run,
    "instances": instances.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run just these")
    parser.add_argument("--docs", type=Path, default=REPO_ROOT / "docs", help="where BENCHMARKS.md goes")
    options = parser.parse_args(argv)
    scale = SCALES[options.scale]
    started = time.monotonic()
    reports, failed = [], False
    with tempfile.TemporaryDirectory(prefix="safesphere-bench-") as scratch:
        for name in options.only or list(BENCHMARKS):
            print(f"[bench] {name} ({scale.name}) ...", flush=True)
            began = time.monotonic()
            try:
                report = BENCHMARKS[name](scale, Path(scratch) / name)
            except Exception:
                failed = True
                traceback.print_exc()
                report = BenchmarkReport(key=name, title=name, notes=["The benchmark failed; see its log."])
            print(f"[bench] {name} done in {time.monotonic() - began:.0f}s", flush=True)
            reports.append(report)
    path = write(reports, scale=scale, docs_dir=options.docs, elapsed_s=time.monotonic() - started)
    print(f"[bench] wrote {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
