"""Fair admission under the attacks of issue 16, on a live ``safesphere serve`` over loopback: while one
attacker tries to silence the engines, a well-behaved engine reporting 5 times a second keeps ≥ 99% of
its reports accepted with p99 ≤ 500 ms, a tourist's SOS keeps p99 ≤ 500 ms, the server's memory stays
bounded, and 2 s after the attack stops reports are fast again."""

from __future__ import annotations

from collections.abc import Callable

from bench.attacks import RAMP_S, Attack, Outcome, Probe, under_attack

from safesphere.core.config import Settings
from tests.factories import Factory
from tests.support.live import LiveServer

MEASURED_S = 6.0
"""How long the well-behaved engine is measured under the attack (30 reports, 12 SOS)."""
ACCEPTED = 0.99
P99_S = 0.5
HOST_SLOWDOWN = 2.0
"""On a host too loaded to meet P99_S even without an attack (the shared 2-core test machine ran at a
load average of ~18), the bound is this multiple of the p99 measured on the same server just before the
attack: the attack may not make things more than this much worse than the host itself does."""
RECOVERY_S = 2.0
RSS_GROWTH_MB = 150.0
"""How much the server may grow under an attack (its baseline is ~100 MB)."""


def _check(outcome: Outcome) -> None:
    reports, sos = outcome.probe.reports, outcome.probe.sos
    summary = outcome.summary()
    print(summary)
    quiet = outcome.baseline
    assert Probe.accepted(reports, 200) >= ACCEPTED, summary
    assert Probe.p99(reports) <= max(P99_S, HOST_SLOWDOWN * Probe.p99(quiet.reports)), summary
    assert Probe.accepted(sos, 201) == 1.0, summary
    assert Probe.p99(sos) <= max(P99_S, HOST_SLOWDOWN * Probe.p99(quiet.sos)), summary
    assert outcome.rss_growth_mb <= RSS_GROWTH_MB, summary
    assert outcome.recovery_s <= RECOVERY_S, summary


def _under_attack(settings: Settings, factory: Factory, attack_with: Callable[[Factory], Attack]) -> Outcome:
    engine = factory.engine_key()
    tourist = factory.tourist()
    attack = attack_with(factory)
    with LiveServer(settings, serve_command=True) as server:
        assert server.process is not None
        return under_attack(
            server.url,
            server.process.pid,
            attack,
            engine.headers,
            tourist.headers,
            measured_s=MEASURED_S,
            scratch=settings.data_dir,
        )


ATTACK_S = RAMP_S + MEASURED_S + 0.5


def test_unauthenticated_slow_bodies_do_not_silence_the_engines(settings: Settings, factory: Factory) -> None:
    """64 sockets without credentials announce 100 kB, send 22 bytes and wait (before: every real report
    got 503 for as long as they waited)."""
    outcome = _under_attack(settings, factory, lambda _: Attack("slow_body", 64, ATTACK_S))
    _check(outcome)


def test_a_flood_with_a_bogus_key_does_not_silence_the_engines(settings: Settings, factory: Factory) -> None:
    """256 keep-alive connections sending reports with a key that does not exist."""
    bogus = {"X-API-Key": "ssk_" + "x" * 43}
    outcome = _under_attack(settings, factory, lambda _: Attack("flood", 256, ATTACK_S, bogus))
    _check(outcome)


def test_a_flood_with_one_valid_key_does_not_starve_the_others(settings: Settings, factory: Factory) -> None:
    """64 keep-alive connections sending real reports with one valid (stolen or buggy) engine key."""
    outcome = _under_attack(
        settings, factory, lambda f: Attack("flood", 64, ATTACK_S, f.engine_key().headers)
    )
    _check(outcome)
