"""Open-loop HTTP/1.1 load generator, run as its own process: ``python -m bench.loadgen PLAN RESULT``.

Request ``i`` is due at ``start + i / rate`` whatever happened to earlier requests (open loop), so a
slow server faces a growing queue instead of a politely waiting client, and each latency is measured
from the moment the request was due, not from when a connection became free (no coordinated omission).
Requests go over raw keep-alive sockets on asyncio (uvloop when installed) so the generator stays far
cheaper than the server it measures; ``send_lag`` reports how late it was in sending, as proof.

The plan is JSON: ``{host, port, rate, duration_s, warmup_s, connections, drain_s, requests: [{method,
path, headers, body}], cpu_pids}``. Requests are used round-robin; ``{seq}`` in a path or body is
replaced by a per-request number, so every incident gets its own id. With ``cpu_pids`` (the server's
processes), the CPU seconds they and their descendants used from the first measured send until the last
answer are reported as ``server_cpu_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import procstat

SEQ = b"{seq}"
clock = time.perf_counter
"""Microsecond timestamps; uvloop's ``loop.time()`` only has millisecond resolution."""
MAX_HEADER_BYTES = 64 * 1024


@dataclass
class Template:
    head: bytes
    """Request line and headers up to (not including) Content-Length."""
    body: bytes
    has_seq: bool

    def render(self, seq: int) -> bytes:
        body = self.body.replace(SEQ, str(seq).encode()) if self.has_seq else self.body
        head = self.head.replace(SEQ, str(seq).encode()) if self.has_seq else self.head
        return head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


def compile_template(request: dict[str, Any], host: str, port: int) -> Template:
    body = request.get("body", "").encode()
    lines = [
        f"{request['method']} {request['path']} HTTP/1.1",
        f"Host: {host}:{port}",
        "Connection: keep-alive",
    ]
    lines += [f"{name}: {value}" for name, value in request.get("headers", {}).items()]
    head = ("\r\n".join(lines) + "\r\n").encode()
    return Template(head=head, body=body, has_seq=SEQ in body or SEQ in head)


@dataclass
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def exchange(self, payload: bytes) -> tuple[int, bool]:
        """Send one request, read one response; returns (status, keep_alive)."""
        self.writer.write(payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked, keep_alive = 0, False, True
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif lowered == b"connection" and b"close" in value.lower():
                keep_alive = False
        if chunked:
            await self._read_chunked()
        elif length:
            await self.reader.readexactly(length)
        return status, keep_alive

    async def _read_chunked(self) -> None:
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await self.reader.readexactly(size + 2)
            if size == 0:
                return

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Keep-alive connections; up to ``limit`` open, requests beyond that wait for one to come back."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: asyncio.Queue[Connection] = asyncio.Queue()
        self.opened = 0

    async def open(self) -> Connection:
        self.opened += 1
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port, limit=MAX_HEADER_BYTES)
        except OSError:
            self.opened -= 1
            raise
        return Connection(reader, writer)

    async def acquire(self) -> Connection:
        with contextlib.suppress(asyncio.QueueEmpty):
            return self.idle.get_nowait()
        if self.opened < self.limit:
            return await self.open()
        return await self.idle.get()

    def release(self, connection: Connection, *, reusable: bool) -> None:
        if reusable:
            self.idle.put_nowait(connection)
            return
        connection.close()
        self.opened -= 1
        asyncio.get_running_loop().create_task(self._replace())

    async def _replace(self) -> None:
        """A closed connection's waiters would otherwise wait forever once ``limit`` are open."""
        with contextlib.suppress(OSError):
            self.idle.put_nowait(await self.open())

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait().close()


@dataclass
class Recorder:
    warm_until: float
    latencies_ms: list[float] = field(default_factory=list)
    send_lag_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    first_due: float | None = None
    last_done: float = 0.0

    def record(self, due: float, done: float, outcome: str, ok: bool) -> None:
        if due < self.warm_until:
            return
        if self.first_due is None or due < self.first_due:
            self.first_due = due
        self.last_done = max(self.last_done, done)
        bucket = self.statuses if outcome.isdigit() else self.errors
        bucket[outcome] = bucket.get(outcome, 0) + 1
        if ok:
            self.latencies_ms.append((done - due) * 1000)


async def _one(pool: Pool, payload: bytes, due: float, recorder: Recorder) -> None:
    try:
        connection = await pool.acquire()
    except OSError as exc:
        recorder.record(due, clock(), type(exc).__name__, ok=False)
        return
    try:
        status, keep_alive = await connection.exchange(payload)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        pool.release(connection, reusable=False)
        recorder.record(due, clock(), type(exc).__name__, ok=False)
        return
    pool.release(connection, reusable=keep_alive)
    recorder.record(due, clock(), str(status), ok=200 <= status < 300)


async def run_plan(plan: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    host, port = plan["host"], int(plan["port"])
    templates = [compile_template(request, host, port) for request in plan["requests"]]
    rate, warmup = float(plan["rate"]), float(plan.get("warmup_s", 0.0))
    total = int(rate * (warmup + float(plan["duration_s"])))
    pool = Pool(host, port, int(plan.get("connections", 256)))
    for _ in range(min(int(plan.get("preopen", 32)), pool.limit)):
        pool.idle.put_nowait(await pool.open())
    start = clock() + 0.05
    recorder = Recorder(warm_until=start + warmup)
    tasks: set[asyncio.Task[None]] = set()
    seq_base = int(plan.get("seq_base", 0))
    server = procstat.tree(list(plan.get("cpu_pids") or []))
    cpu_at_window: float | None = None
    sent = measured = 0
    while sent < total:
        now = clock()
        while sent < total and start + sent / rate <= now:
            due = start + sent / rate
            if due >= recorder.warm_until:
                measured += 1
                if cpu_at_window is None:
                    cpu_at_window = procstat.cpu_seconds(server)
                recorder.send_lag_ms.append((now - due) * 1000)
            payload = templates[sent % len(templates)].render(seq_base + sent)
            task = loop.create_task(_one(pool, payload, due, recorder))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        if sent < total:
            await asyncio.sleep(max(0.0, start + sent / rate - clock()))
    end_of_sending = clock()
    if tasks:
        _done, pending = await asyncio.wait(set(tasks), timeout=float(plan.get("drain_s", 10.0)))
        for task in pending:
            task.cancel()
        if pending:
            recorder.errors["unfinished"] = len(pending)
    server_cpu_s = (
        procstat.cpu_seconds(server) - cpu_at_window if server and cpu_at_window is not None else None
    )
    pool.close()
    elapsed = max(recorder.last_done, end_of_sending) - (recorder.first_due or start)
    return {
        "offered_rps": rate,
        "requests": measured,
        "ok": len(recorder.latencies_ms),
        "achieved_rps": len(recorder.latencies_ms) / elapsed if elapsed > 0 else 0.0,
        "elapsed_s": elapsed,
        "latencies_ms": recorder.latencies_ms,
        "send_lag_ms": recorder.send_lag_ms,
        "statuses": recorder.statuses,
        "errors": recorder.errors,
        "connections_opened": pool.opened,
        "server_cpu_s": server_cpu_s,
    }


def main(argv: list[str]) -> int:
    plan_path, result_path = Path(argv[0]), Path(argv[1])
    plan = json.loads(plan_path.read_text())
    started = time.process_time()
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run_plan(plan))
    else:
        result = uvloop.run(run_plan(plan))
    result["generator_cpu_s"] = time.process_time() - started
    result_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
