"""The simulation loop: a seeded sequence of events (tourist fixes, camera reports, SOS) sent through the
SDK at a fixed rate, with what the server answered counted per kind.

The event sequence and every payload depend only on ``seed``: positions advance by simulated seconds
(event ``i`` happens at ``i / rate``), not by how fast the server answered.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from safesphere.client import ApiError, ServerUnreachable, ThreatReporter, TouristClient
from safesphere.simulate import bootstrap
from safesphere.simulate.city import day_district, night_district
from safesphere.simulate.movement import Walker
from safesphere.simulate.stats import Stats

__all__ = ["Options", "Stats", "Summary", "run"]
from safesphere.simulate.telemetry import threat_cv_incident

CAMERA_EVENT_WEIGHT = 0.5
"""A camera reports about half as often as a phone sends a fix."""
SOS_SHARE = 0.01
"""One tourist event in a hundred is an SOS."""
CALM_MIX = {"LOW": 0.55, "MEDIUM": 0.25, "HIGH": 0.14, "CRITICAL": 0.06}
HOT_MIX = {"LOW": 0.25, "MEDIUM": 0.30, "HIGH": 0.28, "CRITICAL": 0.17}
"""Threat levels a camera sees: a quiet square versus the edge of a risky zone."""
MAX_WORKERS = 32


@dataclass(frozen=True)
class Options:
    base_url: str
    tourists: int = 20
    cameras: int = 4
    rate: float = 5.0
    duration_s: float = 60.0
    seed: int = 1
    admin_email: str | None = None
    admin_password: str | None = None
    spool_dir: Path | None = None


@dataclass
class Summary:
    stats: Stats
    stage: bootstrap.Stage
    still_spooled: int
    elapsed_s: float
    tourist_emails: list[str] = field(default_factory=list)


@dataclass
class Cast:
    tourists: list[TouristClient]
    walkers: list[Walker]
    reporters: list[ThreatReporter]
    stage: bootstrap.Stage

    def close(self) -> None:
        for client in self.tourists:
            client.close()
        for reporter in self.reporters:
            reporter.close()


def _stage(options: Options, rng: random.Random, spool_dir: Path) -> Cast:
    stage = bootstrap.Stage(tourists=bootstrap.cast_tourists(rng, options.tourists))
    now = datetime.now(UTC)
    walkers = [
        Walker.start(rng, night_district(now) if role.night else day_district(), drifter=role.drifter)
        for role in stage.tourists
    ]
    tourists = [
        TouristClient.register(
            options.base_url, role.email, bootstrap.TOURIST_PASSWORD, name=f"Sim tourist {role.index}"
        )
        for role in stage.tourists
    ]
    reporters: list[ThreatReporter] = []
    if options.admin_email and options.admin_password:
        with httpx.Client(base_url=options.base_url, timeout=30) as http:
            token = bootstrap.admin_token(http, options.admin_email, options.admin_password)
            headers = {"Authorization": f"Bearer {token}"}
            districts = sorted(
                {walker.district for walker in walkers} | {day_district()}, key=lambda d: d.name
            )
            bootstrap.ensure_zones(http, headers, districts, stage)
            bootstrap.ensure_places(http, headers, districts, stage)
            stage.cameras = bootstrap.create_cameras(http, headers, rng, options.cameras, stage.tourists)
        reporters = [
            ThreatReporter(options.base_url, camera.key, spool_path=spool_dir / f"{camera.name}.db")
            for camera in stage.cameras
        ]
    elif options.cameras:
        stage.warnings.append("no --admin-email/--admin-password: cameras need engine keys, so none report")
    return Cast(tourists, walkers, reporters, stage)


@dataclass(frozen=True)
class Event:
    kind: str
    actor: int
    call: Callable[[], Any]


def _plan(rng: random.Random, cast: Cast, index: int, simulated_s: float, last_seen: list[float]) -> Event:
    """The next event, drawn from ``rng`` in order so the same seed replays the same city."""
    camera_weight = len(cast.reporters) * CAMERA_EVENT_WEIGHT
    if cast.reporters and (
        not cast.tourists or rng.random() < camera_weight / (camera_weight + len(cast.tourists))
    ):
        actor = rng.randrange(len(cast.reporters))
        camera = cast.stage.cameras[actor]
        mix = HOT_MIX if camera.hot else CALM_MIX
        level = rng.choices(list(mix), list(mix.values()))[0]
        where = camera.site if camera.owner_index is None else cast.walkers[camera.owner_index].position
        incident = threat_cv_incident(
            rng, level=level, at=datetime.now(UTC), frame_id=index, source_id=camera.name, location=where
        )
        return Event("report", actor, lambda: cast.reporters[actor].report(incident))
    actor = rng.randrange(len(cast.tourists))
    fix = cast.walkers[actor].advance(rng, max(simulated_s - last_seen[actor], 1.0))
    last_seen[actor] = simulated_s
    client = cast.tourists[actor]
    if rng.random() < SOS_SHARE:
        return Event("sos", actor, lambda: client.sos(fix.lat, fix.lon, "Simulated SOS: feeling unsafe"))
    return Event(
        "fix",
        actor,
        lambda: client.update_location(
            fix.lat, fix.lon, altitude=fix.altitude, speed=fix.speed, accuracy=fix.accuracy
        ),
    )


def _execute(event: Event, stats: Stats) -> None:
    began = time.perf_counter()
    try:
        answer = event.call()
    except ApiError as exc:
        stats.record(event.kind, "rejected", time.perf_counter() - began, str(exc))
        return
    except ServerUnreachable as exc:
        stats.record(event.kind, "failed", time.perf_counter() - began, str(exc))
        return
    outcome = getattr(answer, "outcome", "delivered")
    stats.record(event.kind, str(outcome), time.perf_counter() - began, None)


def run(options: Options, *, on_progress: Callable[[int, Stats], None] | None = None) -> Summary:
    """Stage the city, then send ``rate * duration`` events on schedule; returns what happened."""
    rng = random.Random(options.seed)  # noqa: S311 - reproducible simulation, not security
    with tempfile.TemporaryDirectory(prefix="safesphere-sim-") as scratch:
        spool_dir = options.spool_dir or Path(scratch)
        spool_dir.mkdir(parents=True, exist_ok=True)
        cast = _stage(options, rng, spool_dir)
        stats = Stats()
        total = int(options.rate * options.duration_s)
        last_seen = [0.0] * len(cast.tourists)
        started = time.perf_counter()
        pending: list[Future[None]] = []
        try:
            with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="sim") as pool:
                for index in range(total if (cast.tourists or cast.reporters) else 0):
                    simulated_s = index / options.rate
                    time.sleep(max(0.0, started + simulated_s - time.perf_counter()))
                    event = _plan(rng, cast, index, simulated_s, last_seen)
                    pending.append(pool.submit(_execute, event, stats))
                    if on_progress is not None:
                        on_progress(index + 1, stats)
            still_spooled = sum(reporter.flush() for reporter in cast.reporters)
        finally:
            cast.close()
        for future in pending:
            future.result()
        return Summary(
            stats=stats,
            stage=cast.stage,
            still_spooled=still_spooled,
            elapsed_s=time.perf_counter() - started,
            tourist_emails=[role.email for role in cast.stage.tourists],
        )
