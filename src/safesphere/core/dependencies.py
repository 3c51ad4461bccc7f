"""FastAPI dependencies for what every router needs: settings, sessions, the token service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.security import TokenService


async def get_settings(request: Request) -> Settings:
    """The app's settings. The accessors are ``async`` because they only read app state: FastAPI runs a
    plain ``def`` dependency in its thread pool, and a thread hop costs more than the accessor."""
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


async def get_tokens(request: Request) -> TokenService:
    tokens: TokenService = request.app.state.tokens
    return tokens


async def write_session(database: Annotated[Database, Depends(get_database)]) -> AsyncIterator[Session]:
    """A write session for the request. It is made on the event loop (a session connects lazily, in the
    route's thread) and closed there unless a transaction is still open, whose rollback is I/O and goes
    to the thread pool: two thread hops fewer per request than a plain generator dependency."""
    session = database.new_session()
    try:
        yield session
    finally:
        await _close(session)


async def read_session(database: Annotated[Database, Depends(get_database)]) -> AsyncIterator[Session]:
    """A read session for the request, made and closed like ``write_session``."""
    session = database.new_read_session()
    try:
        yield session
    finally:
        await _close(session)


async def _close(session: Session) -> None:
    if session.in_transaction():
        await anyio.to_thread.run_sync(session.close)
    else:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
TokensDep = Annotated[TokenService, Depends(get_tokens)]
DbSession = Annotated[Session, Depends(write_session)]
"""A session for a use case that writes (on SQLite it holds the write lock from its first query)."""
ReadSession = Annotated[Session, Depends(read_session)]
"""A session for reads only."""
