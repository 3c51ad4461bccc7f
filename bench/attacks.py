"""The admission attacks of issue 16 on raw sockets, and the well-behaved devices measured under them
(used by tests/core/test_admission.py and the ``admission`` benchmark).

An attack runs in a process of its own (spawned), so its hundreds of sockets never share a GIL with the
measured engine; raw asyncio streams rather than an HTTP client, so one core drives as many requests as
a real attacker's would. The well-behaved devices are measured from a spawned process of their own too:
from the caller's, the pauses were the caller's. By the admission tests pytest's heap is large enough
that each full garbage collection takes 0.24-0.47 s (measured); one such pause delayed the probe's
scheduled reports, was read as the server's latency (p99 1.1 s), and let the late reports go out at once,
over the engine's in-flight share (a 429 the server was right to give).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REQUEST_TIMEOUT_S = 10.0


def report_body(incident_id: str) -> dict[str, Any]:
    """A CRITICAL armed-threat report, as a camera sends it."""
    return {
        "incident_id": incident_id,
        "threat_level": "CRITICAL",
        "threat_score": 0.87,
        "people_count": 2,
        "weapon_detected": True,
        "weapon_types": ["gun"],
        "behavior_summary": "Following + approaching rapidly",
        "is_critical": True,
        "full_telemetry": {
            "detections": [{"label": "person", "box": [10, 20, 110, 220], "confidence": 0.93}]
        },
    }


SOS_AT = {"lat": 41.39, "lon": 2.17}


@dataclass(frozen=True)
class Attack:
    """``connections`` sockets to ``port`` for ``duration_s``; ``kind`` is ``slow_body`` (headers with
    ``Content-Length: 100000`` and 22 bytes of body, then silence) or ``flood`` (complete reports back
    to back on keep-alive connections) with ``headers`` as credentials."""

    kind: str
    connections: int
    duration_s: float
    headers: dict[str, str] = field(default_factory=dict)


def _request(path: str, headers: dict[str, str], body: bytes, *, content_length: int | None = None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body) if content_length is None else content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    await reader.readexactly(length)
    return status


async def _slow_body(port: int, attack: Attack, deadline: float, tally: dict[int, int]) -> None:
    request = _request("/threats/report", attack.headers, b'{"threat_level": "CRIT', content_length=100_000)
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(request)
                await writer.drain()
                remaining = max(0.0, deadline - time.monotonic())
                with contextlib.suppress(TimeoutError):
                    status = await asyncio.wait_for(_read_response(reader), remaining)
                    tally[status] = tally.get(status, 0) + 1
            finally:
                writer.close()
        await asyncio.sleep(0.01)


async def _flood(port: int, attack: Attack, deadline: float, tally: dict[int, int], numbers: Any) -> None:
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                while time.monotonic() < deadline:
                    body = json.dumps(report_body(f"FLOOD_{next(numbers)}")).encode()
                    writer.write(_request("/threats/report", attack.headers, body))
                    await writer.drain()
                    remaining = max(0.01, deadline - time.monotonic())
                    status = await asyncio.wait_for(_read_response(reader), remaining)
                    tally[status] = tally.get(status, 0) + 1
            except TimeoutError:
                pass
            finally:
                writer.close()
        await asyncio.sleep(0.01)


def run_attack(port: int, attack: Attack, started: Path) -> dict[int, int]:
    """Run ``attack`` until its duration ends (the file ``started`` is created when it begins); the status
    codes it got, counted."""

    async def main() -> dict[int, int]:
        started.touch()
        tally: dict[int, int] = {}
        deadline = time.monotonic() + attack.duration_s
        numbers = itertools.count(1)
        if attack.kind == "slow_body":
            workers = [_slow_body(port, attack, deadline, tally) for _ in range(attack.connections)]
        else:
            workers = [_flood(port, attack, deadline, tally, numbers) for _ in range(attack.connections)]
        await asyncio.gather(*workers)
        return tally

    return asyncio.run(main())


@dataclass
class Probe:
    """What a well-behaved engine and a tourist's SOS got while measured: (status, seconds) per request."""

    reports: list[tuple[int, float]] = field(default_factory=list)
    sos: list[tuple[int, float]] = field(default_factory=list)

    @staticmethod
    def accepted(results: list[tuple[int, float]], status: int) -> float:
        return sum(1 for code, _ in results if code == status) / len(results)

    @staticmethod
    def p99(results: list[tuple[int, float]]) -> float:
        durations = sorted(seconds for _, seconds in results)
        return durations[min(len(durations) - 1, math.ceil(0.99 * len(durations)) - 1)]


async def _timed(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], body: object
) -> tuple[int, float]:
    started = time.monotonic()
    try:
        response = await http.post(path, json=body, headers=headers)
    except httpx.TransportError:
        return 0, time.monotonic() - started
    return response.status_code, time.monotonic() - started


async def measure(
    url: str,
    engine: dict[str, str],
    tourist: dict[str, str],
    *,
    seconds: float,
    reports_per_s: float = 5.0,
    sos_per_s: float = 2.0,
    prefix: str = "GOOD",
) -> Probe:
    """Reports from ``engine`` at ``reports_per_s`` and SOS from ``tourist`` at ``sos_per_s``, each sent
    on schedule (not after the previous answer) for ``seconds``."""
    probe = Probe()
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S) as http:
        started = time.monotonic()
        tasks: list[tuple[list[tuple[int, float]], asyncio.Task[tuple[int, float]]]] = []
        for n in range(int(seconds * reports_per_s)):
            await asyncio.sleep(max(0.0, started + n / reports_per_s - time.monotonic()))
            body = report_body(f"{prefix}_{n}")
            tasks.append((probe.reports, asyncio.create_task(_timed(http, "/threats/report", engine, body))))
            if n % round(reports_per_s / sos_per_s) == 0:
                tasks.append((probe.sos, asyncio.create_task(_timed(http, "/sos", tourist, SOS_AT))))
        for results, task in tasks:
            results.append(await task)
    return probe


async def recovery_s(url: str, engine: dict[str, str], *, prefix: str, limit_s: float = 10.0) -> float:
    """Seconds until a report is accepted within 500 ms again (polled every 100 ms)."""
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S) as http:
        for n in itertools.count():
            status, seconds = await _timed(http, "/threats/report", engine, report_body(f"{prefix}_{n}"))
            if status == 200 and seconds <= 0.5:
                return time.monotonic() - started
            if time.monotonic() - started > limit_s:
                return math.inf
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


RAMP_S = 1.0
"""The attack runs this long before the measurement starts."""
BASELINE_S = 2.0
"""The devices are measured this long without any attack first."""


@dataclass
class Outcome:
    """What the well-behaved devices got under one attack, what the attacker got, and what it cost."""

    probe: Probe
    baseline: Probe
    """The same devices measured on the same server just before the attack (what the host allows)."""
    tally: dict[int, int]
    rss_growth_mb: float
    recovery_s: float

    def summary(self) -> str:
        reports, sos = self.probe.reports, self.probe.sos
        return (
            f"reports accepted {Probe.accepted(reports, 200):.0%} p99 {Probe.p99(reports):.3f}s "
            f"{sorted({code for code, _ in reports})}; SOS p99 {Probe.p99(sos):.3f}s "
            f"{sorted({code for code, _ in sos})}; attacker got {self.tally}; "
            f"RSS +{self.rss_growth_mb:.0f} MB; recovered in {self.recovery_s:.2f}s; without attack "
            f"report p99 {Probe.p99(self.baseline.reports):.3f}s SOS p99 {Probe.p99(self.baseline.sos):.3f}s"
        )


def _measured(
    url: str, engine: dict[str, str], tourist: dict[str, str], seconds: float, prefix: str
) -> Probe:
    """``measure`` in the devices' process."""
    return asyncio.run(measure(url, engine, tourist, seconds=seconds, prefix=prefix))


def _recovered(url: str, engine: dict[str, str], prefix: str) -> float:
    """``recovery_s`` in the devices' process."""
    return asyncio.run(recovery_s(url, engine, prefix=prefix))


def under_attack(
    url: str,
    pid: int,
    attack: Attack,
    engine: dict[str, str],
    tourist: dict[str, str],
    *,
    measured_s: float,
    scratch: Path,
) -> Outcome:
    """Run ``attack`` on the server at ``url`` (process ``pid``) and measure ``engine`` and ``tourist``
    under it for ``measured_s``, then how soon after it reports are fast again."""
    port = int(url.rsplit(":", 1)[1])
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as devices:
        quiet_prefix = f"QUIET_{time.monotonic_ns()}"
        quiet = devices.submit(_measured, url, engine, tourist, BASELINE_S, quiet_prefix).result()
        baseline = rss_mb(pid)
        peak = [baseline]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                peak.append(rss_mb(pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = scratch / f"attack-started-{time.monotonic_ns()}"
        try:
            with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
                attacking = pool.submit(run_attack, port, attack, started)
                while not started.exists():
                    time.sleep(0.02)
                time.sleep(RAMP_S)
                probe = devices.submit(_measured, url, engine, tourist, measured_s, "GOOD").result()
                tally = attacking.result(timeout=attack.duration_s + 30)
            after_prefix = f"AFTER_{time.monotonic_ns()}"
            recovered = devices.submit(_recovered, url, engine, after_prefix).result()
        finally:
            sampling.set()
            sampler.join()
    return Outcome(probe, quiet, tally, max(peak) - baseline, recovered)
