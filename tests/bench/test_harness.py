"""The benchmark harness runs end to end on a tiny size (numbers here mean nothing; bench/ measures)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.__main__ import BENCHMARKS, main
from bench.load import find_capacity, percentile, run_load
from bench.servers import ceiling_server


def test_every_benchmark_runs_on_a_tiny_size_and_rewrites_the_docs(tmp_path: Path) -> None:
    assert main(["--scale", "tiny", "--docs", str(tmp_path)]) == 0

    document = (tmp_path / "BENCHMARKS.md").read_text()
    results = json.loads((tmp_path / "bench" / "results.json").read_text())
    assert set(results) == set(BENCHMARKS)
    assert "## Incident ingestion (POST /threats/report)" in document
    for name, result in results.items():
        if result["landed"]:
            assert result["rows"], name
        else:
            assert "Not landed yet" in document
    ingestion = results["ingestion"]
    if ingestion["landed"]:
        assert ingestion["at_target"]["ok"] == ingestion["at_target"]["requests"] > 0
        assert ingestion["rss_bytes"] > 0


def test_the_open_loop_generator_keeps_its_schedule_against_the_ceiling(tmp_path: Path) -> None:
    requests = [{"method": "POST", "path": "/noop", "headers": {}, "body": '{"n": {seq}}'}]
    with ceiling_server(tmp_path) as ceiling:
        result = run_load(ceiling.url, requests, rate=200, duration_s=1.0, warmup_s=0.2)
        capacity, steps = find_capacity(
            lambda rate: run_load(ceiling.url, requests, rate=rate, duration_s=0.3, warmup_s=0),
            start_rps=50,
            factor=2,
            max_steps=2,
        )

    assert result.requests == 200
    assert result.ok == 200
    assert result.failures == {}
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms <= result.max_ms
    assert len(steps) == 2
    assert capacity == max(step.achieved_rps for step in steps)


def test_percentiles_pick_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 51.0
    assert percentile(values, 0.99) == 99.0
    assert math.isnan(percentile([], 0.5))  # nothing completed: no latency to report
