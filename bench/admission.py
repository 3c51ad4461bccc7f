"""Fair admission under attack (issue 16): a well-behaved engine reporting 5 times a second and a
tourist's SOS, measured while one attacker tries to silence the engines three ways (the attacks of
tests/core/test_admission.py, run longer at full scale)."""

from __future__ import annotations

from pathlib import Path

from bench.attacks import RAMP_S, Attack, Outcome, Probe, under_attack
from bench.city import register_tourists
from bench.results import BenchmarkReport, Target
from bench.scale import Scale
from bench.servers import create_engine_key, safesphere_server

TITLE = "Fair admission under attack (POST /threats/report, POST /sos)"
TARGET_ACCEPTED = 0.99
TARGET_P99_S = 0.5
TARGET_RECOVERY_S = 2.0
BOGUS_KEY = {"X-API-Key": "ssk_" + "x" * 43}


def _attacks(measured_s: float, attacker_key: str) -> list[tuple[str, Attack]]:
    duration = RAMP_S + measured_s + 0.5
    return [
        ("64 slow bodies, no credentials", Attack("slow_body", 64, duration)),
        ("256 connections, bogus key", Attack("flood", 256, duration, BOGUS_KEY)),
        ("64 connections, one valid key", Attack("flood", 64, duration, {"X-API-Key": attacker_key})),
    ]


def run(scale: Scale, workdir: Path) -> BenchmarkReport:
    measured_s = 3.0 if scale.name == "tiny" else 20.0
    report = BenchmarkReport(key="admission", title=TITLE)
    report.headers = [
        "attack",
        "reports accepted",
        "report p99 ms",
        "SOS p99 ms",
        "attacker's answers",
        "RSS growth MiB",
        "recovery s",
    ]
    for index in range(3):
        data_dir = workdir / f"safesphere-{index}"
        engine = {"X-API-Key": create_engine_key(data_dir, "bench-good")}
        attacker_key = create_engine_key(data_dir, "bench-attacker")
        label, attack = _attacks(measured_s, attacker_key)[index]
        with safesphere_server(data_dir) as server:
            assert server.process is not None
            tourist = {"Authorization": f"Bearer {register_tourists(server.url, 1)[0]}"}
            outcome = under_attack(
                server.url,
                server.process.pid,
                attack,
                engine,
                tourist,
                measured_s=measured_s,
                scratch=data_dir,
            )
        report.rows.append(_row(label, outcome))
        report.targets.append(_target(label, outcome))
        report.raw[label] = {"summary": outcome.summary(), "attacker": outcome.tally}
    report.notes = [
        f"Each attack runs {RAMP_S:.0f} s before and throughout {measured_s:.0f} s of measurement: the "
        "engine sends 5 reports/s on schedule, the tourist 2 SOS/s; recovery is how soon after the attack "
        "ends a report is accepted within 500 ms again. Attacker and measured clients run on the same host.",
    ]
    return report


def _row(label: str, outcome: Outcome) -> list[str]:
    reports, sos = outcome.probe.reports, outcome.probe.sos
    answers = ", ".join(f"{count} x {status}" for status, count in sorted(outcome.tally.items()))
    return [
        label,
        f"{Probe.accepted(reports, 200):.0%}",
        f"{Probe.p99(reports) * 1000:.0f}",
        f"{Probe.p99(sos) * 1000:.0f}",
        answers,
        f"{outcome.rss_growth_mb:.0f}",
        f"{outcome.recovery_s:.2f}",
    ]


def _target(label: str, outcome: Outcome) -> Target:
    reports, sos = outcome.probe.reports, outcome.probe.sos
    met = (
        Probe.accepted(reports, 200) >= TARGET_ACCEPTED
        and Probe.p99(reports) <= TARGET_P99_S
        and Probe.p99(sos) <= TARGET_P99_S
        and outcome.recovery_s <= TARGET_RECOVERY_S
    )
    return Target(
        f"{label}: >= 99% accepted, report and SOS p99 <= 500 ms, recovery <= 2 s", outcome.summary(), met
    )
