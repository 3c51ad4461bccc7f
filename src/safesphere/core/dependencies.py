"""FastAPI dependencies for what every router needs: settings, sessions, the token service."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterable
from contextvars import ContextVar
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from safesphere.core.config import Settings
from safesphere.core.db import WROTE, Database
from safesphere.core.security import TokenService

T = TypeVar("T")


async def get_settings(request: Request) -> Settings:
    """The app's settings. The accessors are ``async`` because they only read app state: FastAPI runs a
    plain ``def`` dependency in its thread pool, and a thread hop costs more than the accessor."""
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_tokens(request: Request) -> TokenService:
    tokens: TokenService = request.app.state.tokens
    return tokens


_request_sessions: ContextVar[list[Session] | None] = ContextVar("request_sessions", default=None)
"""The sessions of the request being handled; the route thread sees the same list (threads copy the
request's context), so it can end their transactions before it returns."""


def _tracked(session: Session) -> Session:
    sessions = _request_sessions.get()
    if sessions is None:
        sessions = []
        _request_sessions.set(sessions)
    sessions.append(session)
    return session


async def write_session(request: Request, database: DatabaseDep) -> AsyncIterator[Session]:
    """A write session for the request. It is made on the event loop and connects lazily in the route's
    thread, which also gives the connection back before it returns (``release_in_route_threads``)."""
    session = _tracked(database.new_session())
    try:
        yield session
    finally:
        await _close(request, session)


async def read_session(request: Request, database: DatabaseDep) -> AsyncIterator[Session]:
    """A read session for the request, made, used and released like ``write_session``."""
    session = _tracked(database.new_read_session())
    try:
        yield session
    finally:
        await _close(request, session)


def end_transactions(*, failed: bool) -> None:
    """End the open transactions of the current request's sessions, so their connections go back to the
    pool in the thread that took them. A read-only transaction commits (what it loaded stays usable:
    ``expire_on_commit=False``); one that failed or flushed writes its use case left uncommitted rolls
    back, as closing the session would have done."""
    for session in _request_sessions.get() or ():
        if not session.in_transaction():
            continue
        if failed or session.info.get(WROTE):
            session.rollback()
        else:
            session.commit()


def _releasing(endpoint: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> T:
        try:
            result = endpoint(*args, **kwargs)
        except BaseException:
            end_transactions(failed=True)
            raise
        end_transactions(failed=False)
        return result

    run.releases_connections = True  # type: ignore[attr-defined]
    return run


def release_in_route_threads(routers: Iterable[APIRouter]) -> None:
    """Make every plain (thread-run) route of ``routers`` end its request's transactions before its
    thread returns; call it before the routers are included (an app builds its routes from them).

    Before, a route's connection stayed checked out "idle in transaction" until the session was closed
    after the response, and the response was serialized in another thread call, both queued for the
    same few route threads: under a burst every thread waited for a connection held by a request that
    waited for a thread, until the pool timeout (issue 16). Now a connection is only ever held by a
    running thread, and the pool has one for each (``core.db.pool_size``)."""
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and _runs_in_a_thread(route.endpoint):
                route.endpoint = _releasing(route.endpoint)
                route.dependant.call = route.endpoint


def _runs_in_a_thread(endpoint: Callable[..., Any]) -> bool:
    return (
        inspect.isfunction(endpoint)
        and not inspect.iscoroutinefunction(endpoint)
        and not inspect.isgeneratorfunction(endpoint)
        and not getattr(endpoint, "releases_connections", False)
    )


async def _close(request: Request, session: Session) -> None:
    sessions = _request_sessions.get()
    if sessions is not None and session in sessions:
        sessions.remove(session)
    if session.in_transaction():  # used outside a route thread (a lazy load while serializing)
        limiter: anyio.CapacityLimiter = request.app.state.service_threads
        await anyio.to_thread.run_sync(session.close, limiter=limiter)
    else:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
TokensDep = Annotated[TokenService, Depends(get_tokens)]
DbSession = Annotated[Session, Depends(write_session)]
"""A session for a use case that writes (on SQLite it holds the write lock from its first query)."""
ReadSession = Annotated[Session, Depends(read_session)]
"""A session for reads only."""
