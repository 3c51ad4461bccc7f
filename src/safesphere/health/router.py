"""Liveness and database health."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from safesphere.auth.access import Public
from safesphere.core import clock
from safesphere.core.dependencies import DatabaseDep

SERVICE_NAME = "SafeSphere Threat Management API"

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"description": "The database does not answer"}})
async def health(request: Request, database: DatabaseDep, _: Public) -> JSONResponse:
    """Whether the service and its database answer. The ping has its own thread and connection, so it
    answers within a second even while every request thread and connection is busy."""
    healthy = await anyio.to_thread.run_sync(database.ping, limiter=request.app.state.service_threads)
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "timestamp": clock.now().isoformat(),
        "service": SERVICE_NAME,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
