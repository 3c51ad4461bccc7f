"""The framework's ceiling, and two references between it and SafeSphere, served exactly as SafeSphere is.

``python -m bench.ceiling --port P`` runs a minimal FastAPI app through the same ``uvicorn.run`` call as
``safesphere serve`` (workers and log level from the same settings):

- ``POST /noop``: the **ceiling**, reading the body and answering at once (the issue's definition).
- ``POST /reference/{kind}/validated``: the body validated by SafeSphere's own request schema for
  ``kind`` (``threat``: ``ThreatReportIn``; ``location``: ``LocationIn``), nothing else.
- ``POST /reference/{kind}/durable``: validated, then stored as one row in its own durable transaction
  (SQLite in WAL mode with ``synchronous=FULL``, the serve defaults) from the route thread pool, sized
  as SafeSphere's.

The references are not SafeSphere: they are the least any implementation of the documented endpoint has
to do per request (accept only a valid body; answer only once it is stored), so a benchmark can show how
much of the ceiling that work alone leaves.
"""

import argparse
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
import uvicorn
from fastapi import FastAPI, Request
from pydantic import BaseModel

from safesphere.core.config import Settings
from safesphere.incidents.schemas import ThreatReportIn
from safesphere.tracking.schemas import LocationIn

REFERENCE_SCHEMAS: dict[str, type[BaseModel]] = {"threat": ThreatReportIn, "location": LocationIn}


class DurableStore:
    """One SQLite file written one transaction at a time, as SQLite allows one writer."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=FULL")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS requests"
            " (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL)"
        )
        self._lock = threading.Lock()

    def store(self, kind: str, body: str) -> None:
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                self._connection.execute("INSERT INTO requests (kind, body) VALUES (?, ?)", (kind, body))
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")


def create_app() -> FastAPI:
    settings = Settings()
    store = DurableStore(settings.data_dir / "reference.db")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.route_threads
        yield

    app = FastAPI(title="ceiling", lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "healthy"}

    @app.post("/noop")
    async def noop(request: Request) -> dict[str, Any]:
        await request.body()
        return {"success": True}

    for kind, schema in REFERENCE_SCHEMAS.items():
        _add_references(app, store, kind, schema)
    return app


def _add_references(app: FastAPI, store: DurableStore, kind: str, schema: type[BaseModel]) -> None:
    # No ``from __future__ import annotations`` in this module: the body's annotation is the schema
    # itself, evaluated here, so FastAPI validates with it.
    async def validated(body: schema) -> dict[str, Any]:  # type: ignore[valid-type]
        return {"success": True}

    def durable(body: schema) -> dict[str, Any]:  # type: ignore[valid-type]
        store.store(kind, body.model_dump_json())  # type: ignore[attr-defined]
        return {"success": True}

    app.post(f"/reference/{kind}/validated")(validated)
    app.post(f"/reference/{kind}/durable")(durable)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    options = parser.parse_args()
    settings = Settings()
    uvicorn.run(
        "bench.ceiling:create_app",
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        log_level=settings.log_level.lower(),
    )


if __name__ == "__main__":
    main()
