"""A server's processes and the CPU time they used, read from ``/proc`` (Linux).

Light on imports: the load generator samples a server's CPU at the edges of its measured window.
"""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int, tid: int | None = None) -> list[str]:
    """``/proc/<pid>/stat`` (a thread's: ``/proc/<pid>/task/<tid>/stat``) after the command name (which
    may hold spaces): field 3 on."""
    directory = Path("/proc") / str(pid)
    if tid is not None:
        directory = directory / "task" / str(tid)
    return (directory / "stat").read_text().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(_stat_fields(int(entry.name))[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append(int(entry.name))
    return found


def tree(pids: list[int]) -> list[int]:
    """The processes and all their descendants."""
    found, stack = [], list(pids)
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children(current))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes, with that of their children they reaped (a process gone
    since counts nothing more; the set is fixed by the caller, e.g. from ``tree`` before a run)."""
    ticks = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
        ticks += utime + stime + cutime + cstime
    return ticks / CLOCK_TICKS


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU of each thread of the process so far, by thread id (the main thread's is ``pid``;
    a thread gone since is missing)."""
    found = {}
    for task in (Path("/proc") / str(pid) / "task").iterdir():
        try:
            fields = _stat_fields(pid, int(task.name))
        except OSError:
            continue
        found[int(task.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found
