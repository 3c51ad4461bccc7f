"""Where a report's server CPU goes, by thread: ``python -m bench.write_path [--rate 300] [--seconds 20]``.

A probe, not a benchmark (it writes nothing to docs/BENCHMARKS.md): the real server (``safesphere
serve``, as ``make bench`` starts it) takes the ingestion benchmark's reports at a fixed rate, and its
threads' CPU is read from ``/proc`` around the measured window. The main thread runs the event loop:
HTTP, the middlewares, validation, authentication, hashing, the response. The other threads are the
process's writer (``core/writer.py``: every unit of work and its batch's COMMIT) and the small pools
(the delivery worker's sends). The split says which side a change must make cheaper: the two share one
interpreter lock, so a process's capacity is about one second of CPU divided by their sum.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.ingestion import incident_bodies, report_requests
from bench.load import run_load
from bench.procstat import thread_cpu_seconds
from bench.servers import ONE_CLIENT_FLEET, create_engine_key, safesphere_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=300.0, help="reports offered per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the measured window")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="safesphere-write-path-") as scratch:
        data = Path(scratch) / "server"
        server = safesphere_server(data, **ONE_CLIENT_FLEET)
        with server:
            requests = report_requests(incident_bodies(2000), create_engine_key(data, "probe-cam"))
            run_load(server.url, requests, rate=options.rate, duration_s=3, seq_base=0)  # warm
            pid = server.cpu_pids()[0]
            before = thread_cpu_seconds(pid)
            result = run_load(
                server.url, requests, rate=options.rate, duration_s=options.seconds, seq_base=10**6
            )
            after = thread_cpu_seconds(pid)
    used = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
    answered = max(1, result.ok)
    loop = used.pop(pid, 0.0)
    others = sorted(used.values(), reverse=True)
    print(f"offered {options.rate:.0f}/s, answered {result.achieved_rps:.1f}/s, p99 {result.p99_ms:.1f} ms")
    print(f"event loop (main thread)        {loop * 1000 / answered:6.2f} ms CPU per report")
    if others:
        print(f"busiest other thread (writer)   {others[0] * 1000 / answered:6.2f} ms CPU per report")
        print(f"all other threads               {sum(others[1:]) * 1000 / answered:6.2f} ms CPU per report")


if __name__ == "__main__":
    main()
