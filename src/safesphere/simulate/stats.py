"""What the simulator counts: per kind of event, how many were sent, accepted, rejected, and how fast."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

KINDS = ("fix", "report", "sos")
RECENT_ERRORS = 5
"""Last few error messages kept for the closing summary."""


@dataclass
class KindStats:
    sent: int = 0
    delivered: int = 0
    spooled: int = 0
    rejected: int = 0
    failed: int = 0
    latencies_s: list[float] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """Stored by the server, or safe in an engine's spool on the way there."""
        return self.delivered + self.spooled

    def percentile_ms(self, share: float) -> float | None:
        if not self.latencies_s:
            return None
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000


class Stats:
    """Thread-safe counters, updated by the worker threads as answers arrive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.kinds = {kind: KindStats() for kind in KINDS}
        self.recent_errors: deque[str] = deque(maxlen=RECENT_ERRORS)

    def record(self, kind: str, outcome: str, latency_s: float, error: str | None) -> None:
        with self._lock:
            counted = self.kinds[kind]
            counted.sent += 1
            setattr(counted, outcome, getattr(counted, outcome) + 1)
            counted.latencies_s.append(latency_s)
            if error:
                self.recent_errors.append(f"{kind}: {error}")

    def total(self) -> KindStats:
        with self._lock:
            total = KindStats()
            for counted in self.kinds.values():
                for name in ("sent", "delivered", "spooled", "rejected", "failed"):
                    setattr(total, name, getattr(total, name) + getattr(counted, name))
                total.latencies_s.extend(counted.latencies_s)
            return total
