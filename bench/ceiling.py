"""The framework's ceiling: a minimal FastAPI app answering a no-op POST, served exactly as SafeSphere is.

``python -m bench.ceiling --port P`` runs it through the same ``uvicorn.run`` call as ``safesphere
serve`` (workers, log level and access log from the same settings), so the only difference the
benchmark measures is the work SafeSphere does per request.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from fastapi import FastAPI, Request

from safesphere.core.config import Settings


def create_app() -> FastAPI:
    app = FastAPI(title="ceiling")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "healthy"}

    @app.post("/noop")
    async def noop(request: Request) -> dict[str, Any]:
        await request.body()
        return {"success": True}

    return app


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
