"""The application factory: routers, middleware, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI

from safesphere import __version__
from safesphere.alerts.router import router as alerts_router
from safesphere.analytics.router import router as analytics_router
from safesphere.apidocs.router import router as apidocs_router
from safesphere.audit.router import router as audit_router
from safesphere.auth.admission import DeviceAdmission, KeyCache
from safesphere.auth.router import admin_router
from safesphere.auth.router import router as auth_router
from safesphere.core.announcements import Announcements, listen
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.dependencies import release_in_route_threads
from safesphere.core.errors import install_handlers
from safesphere.core.headers import SecurityHeaders
from safesphere.core.limits import BodyLimits, InFlight
from safesphere.core.logging import configure_logging
from safesphere.core.security import TokenService
from safesphere.core.writer import Writer
from safesphere.dashboard.router import router as dashboard_router
from safesphere.devices.router import router as devices_router
from safesphere.evidence.router import router as evidence_router
from safesphere.health.router import router as health_router
from safesphere.incidents.escalation import escalate_periodically
from safesphere.incidents.protocol_table import load_protocol
from safesphere.incidents.router import router as incidents_router
from safesphere.live.hub import LiveHub, run_hub
from safesphere.live.router import router as live_router
from safesphere.metrics.router import router as metrics_router
from safesphere.notify.push import share_server_key
from safesphere.notify.push_router import router as push_router
from safesphere.notify.router import channels_router, deliveries_router
from safesphere.notify.worker import deliver_forever
from safesphere.places.router import router as places_router
from safesphere.privacy.router import router as privacy_router
from safesphere.retention.service import purge_periodically
from safesphere.touristapp.router import router as tourist_app_router
from safesphere.tracking.rescoring.service import rescore_periodically
from safesphere.tracking.router import authority_router
from safesphere.tracking.router import router as tracking_router
from safesphere.units.router import router as units_router
from safesphere.zones.router import router as zones_router
from safesphere.zones.spatial_index import ZoneIndex

BackgroundTask = Callable[[FastAPI], Coroutine[Any, Any, None]]
"""A long-running coroutine started with the server and cancelled at shutdown."""

SERVICE_THREADS = 4
"""Threads for session closes and health pings, apart from the route threads they must not wait for."""
REQUEST_BODY_SLACK = 64 * 1024
"""Room for multipart framing and form fields around the largest allowed upload."""


def _background_tasks(settings: Settings) -> list[BackgroundTask]:
    tasks: list[BackgroundTask] = [run_hub]
    if settings.announcements_listen and not settings.is_sqlite:
        tasks.append(listen)
    if settings.rescore_interval_s > 0:
        tasks.append(rescore_periodically)
    if settings.delivery_worker_enabled:
        tasks.append(deliver_forever)
    if settings.escalation_rounds > 0:
        tasks.append(escalate_periodically)
    if settings.retention_interval_s > 0 and (settings.retention_fix_days or settings.retention_closed_days):
        tasks.append(purge_periodically)
    return tasks


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.db = Database(settings)
    app.state.writer = Writer(app.state.db, max_batch=settings.writer_max_batch).start()
    app.state.tokens = TokenService(settings)
    app.state.announcements = Announcements()
    app.state.zone_index = ZoneIndex(app.state.announcements, settings)
    app.state.live_hub = LiveHub(app.state.db, settings, app.state.announcements)
    with app.state.db.session() as session:  # before any push is signed or subscribed to
        share_server_key(session, settings)
    # Routes are CPU-bound Python and SQLite runs one writer at a time, so more threads only fight the
    # event loop for the GIL: with anyio's 40 the loop could not even read new requests under a flood.
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.route_threads
    # Short database work that must never queue behind routes: closing a session, pinging for /health.
    app.state.service_threads = anyio.CapacityLimiter(SERVICE_THREADS)
    tasks = [asyncio.create_task(task(app)) for task in _background_tasks(settings)]
    try:
        yield
    finally:
        for running in tasks:
            running.cancel()
        for running in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await running
        await anyio.to_thread.run_sync(app.state.writer.stop)
        app.state.db.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """A SafeSphere application; without ``settings`` it reads the environment."""
    settings = settings or Settings()
    configure_logging(settings)
    app = FastAPI(
        title="SafeSphere API",
        version=__version__,
        description="Threat incident management and tourist safety scoring.",
        lifespan=_lifespan,
        docs_url=None,  # served by apidocs/ from the package's own files, under a CSP
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.protocol = load_protocol(settings.protocol_file)
    install_handlers(app)
    app.state.device_writes = InFlight()
    app.state.engine_keys = KeyCache()
    # Added innermost first: device writes are admitted (authenticated, fair share) inside the body limits,
    # so the body they read is bounded in size and time.
    app.add_middleware(
        DeviceAdmission, settings=settings, in_flight=app.state.device_writes, keys=app.state.engine_keys
    )
    app.add_middleware(
        BodyLimits,
        max_bytes=max(settings.max_upload_bytes, settings.max_clip_bytes) + REQUEST_BODY_SLACK,
        timeout_s=settings.request_body_timeout_s,
    )
    app.add_middleware(SecurityHeaders)  # outermost: every answer, 401, 408, 413, 429 and 503 included
    routers = (
        health_router,
        auth_router,
        admin_router,
        audit_router,
        incidents_router,
        analytics_router,
        evidence_router,
        places_router,
        tracking_router,
        authority_router,
        privacy_router,
        zones_router,
        units_router,
        alerts_router,
        channels_router,
        devices_router,
        deliveries_router,
        push_router,
        dashboard_router,
        tourist_app_router,
        live_router,
        metrics_router,
        apidocs_router,
    )
    release_in_route_threads(routers)
    for router in routers:
        app.include_router(router)
    return app
