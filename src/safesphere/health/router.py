"""Liveness and database health."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from safesphere.auth.access import Public
from safesphere.core import clock
from safesphere.core.dependencies import DatabaseDep

SERVICE_NAME = "SafeSphere Threat Management API"

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"description": "The database does not answer"}})
def health(database: DatabaseDep, _: Public) -> JSONResponse:
    """Whether the service and its database answer."""
    healthy = database.ping()
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "timestamp": clock.now().isoformat(),
        "service": SERVICE_NAME,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
