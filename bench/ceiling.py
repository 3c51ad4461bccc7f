"""The framework's ceiling, and references between it and SafeSphere, served exactly as SafeSphere is.

``python -m bench.ceiling --port P`` runs a minimal FastAPI app through the same ``uvicorn.run`` call as
``safesphere serve`` (workers and log level from the same settings):

- ``POST /noop``: the **ceiling**, reading the body and answering at once (the issue's definition).
- ``POST /reference/{kind}/durable``: the body validated by SafeSphere's own request schema for ``kind``
  (``threat``: ``ThreatReportIn``; ``location``: ``LocationIn``), then stored as one row in its own
  durable transaction (SQLite in WAL mode with ``synchronous=FULL``, the serve defaults) from the route
  thread pool, sized as SafeSphere's.
- ``POST /reference/{kind}/group``: validated, then the *same rows* a real report opening an incident
  (``threat``) or a real location update (``location``) writes (``bench/reference_rows.py``), into
  SafeSphere's own database, committed with **group commit** (``bench/group_commit.py``): one writer
  thread, up to 64 requests per transaction, each answered once its batch is durable. Served when the
  data directory holds that database: ``--group-commit`` makes it (migrations, an engine key, a tourist).

The references are not SafeSphere: the durable one is the least any implementation of the documented
endpoint has to do per request (accept only a valid body; answer only once it is stored); the group-commit
one does what SafeSphere's writes cost at the least (its rows, plain dicts, one writer, batched), so a
benchmark can show how much of the ceiling that work alone leaves. With several workers each would run
its own writer on the same file and hand out clashing ids: the benchmarks run one.
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
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from bench import group_commit
from bench.reference_rows import location_rows, threat_rows
from safesphere.core import clock
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
    path = group_commit.database_path(settings)
    writer = group_commit.GroupCommitWriter(path) if path.exists() else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.route_threads
        if writer is None:
            yield
            return
        writer.start()
        try:
            yield
        finally:
            writer.stop()

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
    if writer is not None:
        _add_group_commit(app, writer)
    return app


def _add_references(app: FastAPI, store: DurableStore, kind: str, schema: type[BaseModel]) -> None:
    # No ``from __future__ import annotations`` in this module: the body's annotation is the schema
    # itself, evaluated here, so FastAPI validates with it.
    def durable(body: schema) -> dict[str, Any]:  # type: ignore[valid-type]
        store.store(kind, body.model_dump_json())  # type: ignore[attr-defined]
        return {"success": True}

    app.post(f"/reference/{kind}/durable")(durable)


def _add_group_commit(app: FastAPI, writer: group_commit.GroupCommitWriter) -> None:
    owners, ids = writer.owners(), writer.next_ids()

    async def written(rows: Any, answer: dict[str, Any]) -> Any:
        try:
            await writer.write(rows)
        except sqlite3.IntegrityError as exc:
            return JSONResponse({"detail": f"Not stored: {exc}"}, status_code=409)
        return answer

    async def threat(body: ThreatReportIn) -> Any:
        rows = threat_rows(body, engine_key_id=owners.engine_key_id, ids=ids, now=clock.now())
        return await written(rows, {"success": True, "incident_id": body.incident_id})

    async def location(body: LocationIn) -> Any:
        rows, fix_id = location_rows(body, tourist_id=owners.tourist_id, ids=ids, now=clock.now())
        return await written(rows, {"status": "success", "location_id": fix_id})

    app.post("/reference/threat/group")(threat)
    app.post("/reference/location/group")(location)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--group-commit", action="store_true", help="make the group-commit reference's database"
    )
    options = parser.parse_args()
    settings = Settings()
    if options.group_commit:
        group_commit.prepare(settings)
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
