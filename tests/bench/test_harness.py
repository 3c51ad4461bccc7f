"""The benchmark harness runs end to end on a tiny size (numbers here mean nothing; bench/ measures)."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from bench.__main__ import BENCHMARKS, main
from bench.city import location_bodies, register_tourists
from bench.ingestion import ENGINE_KEY_NAME, incident_bodies
from bench.load import LoadResult, find_capacity, percentile, run_load
from bench.procstat import thread_cpu_seconds
from bench.references import REFERENCES
from bench.servers import ONE_CLIENT_FLEET, ceiling_server, create_engine_key, safesphere_server


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
        assert set(ingestion["references"]) == set(REFERENCES.values())
        assert all(steps for steps in ingestion["references"].values())


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


def test_the_references_validate_with_the_real_schemas_and_store_durably(tmp_path: Path) -> None:
    report = incident_bodies(1)[0].replace("{seq}", "1")
    with ceiling_server(tmp_path) as ceiling:
        json_body = {"Content-Type": "application/json"}
        refused = httpx.post(f"{ceiling.url}/reference/threat/durable", json={"threat_level": "SEVERE"})
        bad_fix = httpx.post(f"{ceiling.url}/reference/location/durable", json={"lat": 91, "lon": 0})
        stored = httpx.post(f"{ceiling.url}/reference/threat/durable", content=report, headers=json_body)
        fix = {"lat": 48.1, "lon": 11.5, "timestamp": "2026-12-01T12:00:00Z"}
        stored_fix = httpx.post(f"{ceiling.url}/reference/location/durable", json=fix)

    assert stored.status_code == stored_fix.status_code == 200
    assert refused.status_code == bad_fix.status_code == 422
    with sqlite3.connect(tmp_path / "reference.db") as database:
        rows = database.execute("SELECT kind, body FROM requests ORDER BY id").fetchall()
    assert [kind for kind, _ in rows] == ["threat", "location"]  # refused bodies are not stored
    assert json.loads(rows[0][1])["incident_id"] == "INC_BENCH_1"


WRITTEN_TABLES = (
    "incidents", "incident_events", "incident_actions", "incident_alerts", "alerts", "deliveries",
    "delivery_attempts", "device_commands", "location_fixes", "tourist_status",
)  # fmt: skip


def _rows_per_table(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in WRITTEN_TABLES}  # noqa: S608


def _settled(database: Path) -> dict[str, int]:
    """The row counts once the delivery worker has recorded an attempt for every delivery."""
    deadline = time.monotonic() + 20
    while True:
        counts = _rows_per_table(database)
        if counts["delivery_attempts"] >= counts["deliveries"] or time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


def test_the_group_commit_reference_writes_the_rows_safesphere_writes(tmp_path: Path) -> None:
    reports = [body.replace("{seq}", str(n)) for n, body in enumerate(incident_bodies(16))]
    fixes = location_bodies(2)
    json_body = {"Content-Type": "application/json"}
    real_dir = tmp_path / "safesphere"
    key = {"X-API-Key": create_engine_key(real_dir, ENGINE_KEY_NAME), **json_body}
    with safesphere_server(real_dir, **ONE_CLIENT_FLEET) as real:
        tourist = {"Authorization": f"Bearer {register_tourists(real.url, 1)[0]}", **json_body}
        answers = [httpx.post(f"{real.url}/threats/report", content=r, headers=key) for r in reports]
        answers += [httpx.post(f"{real.url}/location/update", content=f, headers=tourist) for f in fixes]
        real_rows = _settled(real_dir / "safesphere.db")
    with ceiling_server(tmp_path / "reference", group_commit=True) as reference:
        url = f"{reference.url}/reference"
        answers += [httpx.post(f"{url}/threat/group", content=r, headers=json_body) for r in reports]
        answers += [httpx.post(f"{url}/location/group", content=f, headers=json_body) for f in fixes]
        repeated = httpx.post(f"{url}/threat/group", content=reports[0], headers=json_body)
        refused = httpx.post(f"{url}/location/group", json={"lat": 91, "lon": 0})
        reference_rows = _rows_per_table(tmp_path / "reference" / "safesphere.db")

    assert [answer.status_code for answer in answers] == [200] * len(answers)
    assert (repeated.status_code, refused.status_code) == (409, 422)
    levels = {json.loads(report)["threat_level"] for report in reports}
    assert {"HIGH", "CRITICAL"} <= levels
    assert reference_rows == real_rows
    assert real_rows["deliveries"] > 0


def _server_of_capacity(capacity: float) -> Callable[[float], LoadResult]:
    """What the load generator reports of a server that completes up to ``capacity`` requests/s and
    refuses the rest (as the in-flight limit does), for the sweep's own logic."""

    def run_at(rate: float) -> LoadResult:
        requests = round(rate * 10)
        ok = min(requests, round(capacity * 10))
        failed = {"503": requests - ok} if requests > ok else {}
        return LoadResult(rate, ok / 10, requests, ok, 5.0, 8.0, 9.0, 10.0, 0.1, 0.1, failed)

    return run_at


def test_the_sweep_narrows_the_capacity_down_between_its_last_two_steps() -> None:
    coarse, coarse_steps = find_capacity(_server_of_capacity(110), start_rps=50, factor=1.6, max_steps=8)
    fine, fine_steps = find_capacity(
        _server_of_capacity(110), start_rps=50, factor=1.6, max_steps=8, refine=2
    )

    assert coarse == 80  # 50, 80 pass; 128 refuses 14%
    assert [s.offered_rps for s in coarse_steps] == [50, 80, 128]
    assert 100 < fine <= 110  # sqrt(80 x 128) = 101 passes, then 114 refuses
    assert len(fine_steps) == 5
    assert [s.offered_rps for s in fine_steps] == sorted(s.offered_rps for s in fine_steps)


def test_percentiles_pick_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 51.0
    assert percentile(values, 0.99) == 99.0
    assert math.isnan(percentile([], 0.5))  # nothing completed: no latency to report


def test_thread_cpu_is_read_per_thread_with_the_main_thread_under_the_process_id() -> None:
    """``bench.write_path`` splits a server's CPU between its event loop (the main thread) and the rest:
    a thread that spins must show its own CPU under its own id, not the main thread's."""
    burned, release = threading.Event(), threading.Event()
    ids: list[int] = []

    def spin() -> None:
        ids.append(threading.get_native_id())
        deadline = time.thread_time() + 0.3
        while time.thread_time() < deadline:
            pass
        burned.set()
        release.wait(5)  # still alive while its CPU is read

    main_before = thread_cpu_seconds(os.getpid())[os.getpid()]
    thread = threading.Thread(target=spin)
    thread.start()
    try:
        assert burned.wait(10)
        cpu = thread_cpu_seconds(os.getpid())
    finally:
        release.set()
        thread.join()
    assert cpu[ids[0]] >= 0.25, cpu
    assert cpu[os.getpid()] - main_before < 0.15, "the main thread only waited"
