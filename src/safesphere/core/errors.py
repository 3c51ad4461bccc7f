"""Domain errors, raised by services and mapped to HTTP in one handler."""

from __future__ import annotations

import functools
import logging
import math
import re
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from safesphere.core.dependencies import get_database
from safesphere.core.limits import DEVICE_WRITES

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of the errors a use case raises; ``status_code`` is the HTTP mapping."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail}

    def headers(self) -> dict[str, str] | None:
        return None


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    status_code = 403


class NotAuthenticated(DomainError):
    status_code = 401

    def __init__(self, detail: str = "Not authenticated") -> None:
        super().__init__(detail)

    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class PayloadTooLarge(DomainError):
    status_code = 413


class UnsupportedMediaType(DomainError):
    status_code = 415


class TooManyRequests(DomainError):
    """429 with ``Retry-After``: the client must wait ``retry_after_s`` before trying again."""

    status_code = 429

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_s)}


class ServiceUnavailable(DomainError):
    """503, with ``Retry-After`` when the wait is known."""

    status_code = 503

    def __init__(self, detail: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str] | None:
        return None if self.retry_after_s is None else {"Retry-After": str(self.retry_after_s)}


class InvalidInput(DomainError):
    """A field the schema accepted but the use case cannot: 422 in FastAPI's validation shape."""

    status_code = 422

    def __init__(self, detail: str, *, loc: tuple[str | int, ...] = ("body",)) -> None:
        super().__init__(detail)
        self.loc = loc

    def body(self) -> dict[str, Any]:
        return {"detail": [{"loc": list(self.loc), "msg": self.detail, "type": "value_error"}]}


_DESCRIPTIONS: dict[int, str] = {
    401: "Missing or invalid credentials",
    403: "Credentials of the wrong role or kind",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Too large",
    415: "Unsupported media type",
    429: "Too many attempts: wait the Retry-After seconds",
    503: "A dependency does not answer",
}


def responses(*codes: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for a route: ``responses(401, 403, n404="Incident not found")``."""
    table: dict[int | str, dict[str, Any]] = {code: {"description": _DESCRIPTIONS[code]} for code in codes}
    for key, description in described.items():
        table[int(key.lstrip("n"))] = {"description": description}
    return table


async def _handle_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, DomainError):  # registered for DomainError only
        raise exc
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers())


ECHO_DEPTH = 16
"""How deep a 422 echoes a rejected input; deeper parts are elided so a hostile body cannot exhaust
the stack."""


def _json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` with what JSON cannot carry (NaN, infinities, lone surrogates) as text, cut at ECHO_DEPTH."""
    if depth > ECHO_DEPTH:
        return "..."
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_json_safe(k, depth + 1): _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item, depth + 1) for item in value]
    if isinstance(value, BaseException):
        return {}
    return value


async def _handle_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, except that an echoed NaN, lone surrogate or deep input cannot turn it into a 500."""
    if not isinstance(exc, RequestValidationError):  # registered for RequestValidationError only
        raise exc
    return JSONResponse({"detail": jsonable_encoder(_json_safe(exc.errors()))}, status_code=422)


DATABASE_BUSY_RETRY_AFTER_S = 1
"""A pool checkout timed out: the burst that filled the pool drains within about a second."""


async def _handle_database_busy(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"Busy: no database connection free; retry in {DATABASE_BUSY_RETRY_AFTER_S} s"},
        status_code=503,
        headers={"Retry-After": str(DATABASE_BUSY_RETRY_AFTER_S)},
    )


async def _handle_unstorable_value(_request: Request, exc: Exception) -> JSONResponse:
    """A value the database refuses to store or compare (PostgreSQL: a NUL character in text, a number out
    of its column's range) is the client's input, not a server fault: 422, the transaction rolled back."""
    reason = "a NUL character in text" if "NUL" in str(exc) else "a value out of its stored range"
    log.warning("unstorable value refused: %s", str(getattr(exc, "orig", exc)).splitlines()[0])
    error = {"loc": ["body"], "msg": f"Cannot be stored: {reason}", "type": "value_error"}
    return JSONResponse({"detail": [error]}, status_code=422)


def _allowed_methods(request: Request) -> str:
    """Every method the resource at this path takes (Starlette names only those of the first route that
    matched the path, so ``PUT /zones/1`` said ``Allow: GET`` though PATCH and DELETE exist). The resource is
    the most literal template that matches: ``/zones/export.geojson`` is not ``/zones/{zone_id}``."""
    path = request.url.path
    matches = [
        (context.path.count("{"), method)
        for context in iter_route_contexts(request.app.routes)
        if context.path is not None and context.methods and _path_regex(context.path).match(path)
        for method in context.methods
    ]
    fewest = min((parameters for parameters, _ in matches), default=0)
    return ", ".join(sorted({method for parameters, method in matches if parameters == fewest}))


@functools.cache
def _path_regex(template: str) -> re.Pattern[str]:
    return compile_path(template)[0]


async def _handle_http_error(request: Request, exc: Exception) -> Any:
    """Starlette's HTTP errors as FastAPI answers them, with a complete ``Allow`` on a 405."""
    if not isinstance(exc, StarletteHTTPException):  # registered for StarletteHTTPException only
        raise exc
    if exc.status_code == 405:
        exc.headers = {**(exc.headers or {}), "Allow": _allowed_methods(request)}
    return await http_exception_handler(request, exc)


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}

SHARED_ANSWERS: dict[str, dict[str, Any]] = {
    "400": {"description": "The body cannot be read as its media type (for example JSON that is not UTF-8)"},
    "408": {"description": "Body not received within SAFESPHERE_REQUEST_BODY_TIMEOUT_S (connection closed)"},
    "413": {
        "description": "Body larger than the body cap (the larger of SAFESPHERE_MAX_UPLOAD_BYTES and "
        "SAFESPHERE_MAX_CLIP_BYTES)"
    },
    "503": {"description": "Busy: no database connection free in time; retry after Retry-After seconds"},
}
"""What FastAPI, the body limits and the pool-timeout handler answer around a route's own statuses."""

DEVICE_WRITE_ANSWERS: dict[str, dict[str, Any]] = {
    "401": {"description": "Missing or unknown credentials (answered after a delay; the connection closes)"},
    "429": {
        "description": "This engine key or tourist is over its fair share of device writes (in flight or per "
        "second); retry after Retry-After seconds",
        "headers": _RETRY_AFTER,
    },
    "503": {
        "description": "Busy: too many device writes in flight, unknown keys being checked, or no database "
        "connection free; retry after Retry-After seconds",
        "headers": _RETRY_AFTER,
    },
}
"""What fair admission (auth.admission) answers before a device write (core.limits.DEVICE_WRITES) reaches
its route."""


def _uses_database(dependant: Dependant) -> bool:
    return any(d.call is get_database or _uses_database(d) for d in dependant.dependencies)


def _document_shared_answers(app: FastAPI) -> None:
    """Adds SHARED_ANSWERS to the OpenAPI: 400, 408 and 413 to every operation with a body, 503 to every
    operation that reaches the database, DEVICE_WRITE_ANSWERS to the device writes, so a client (and the
    schemathesis pass) knows every status it can get."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute) or not route.include_in_schema or context.path is None:
                continue
            path = compile_path(context.path)[1]  # as the OpenAPI names it: /zones/{zone_id:int} -> {zone_id}
            for method in context.methods or ():
                operation = schema["paths"][path][method.lower()]
                answers = operation["responses"]
                if path in DEVICE_WRITES and method == "POST":
                    answers.update(DEVICE_WRITE_ANSWERS)
                if "requestBody" in operation:
                    for status in ("400", "408", "413"):
                        answers.setdefault(status, SHARED_ANSWERS[status])
                if _uses_database(route.dependant):
                    answers.setdefault("503", SHARED_ANSWERS["503"])
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_handlers(app: FastAPI) -> None:
    _document_shared_answers(app)
    app.add_exception_handler(StarletteHTTPException, _handle_http_error)
    app.add_exception_handler(DomainError, _handle_domain_error)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, _handle_database_busy)
    app.add_exception_handler(sqlalchemy.exc.DataError, _handle_unstorable_value)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
