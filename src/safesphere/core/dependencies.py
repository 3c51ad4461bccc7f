"""FastAPI dependencies for what every router needs: settings, sessions, the token service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

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


def write_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with database.session() as session:
        yield session


def read_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with database.read_session() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
TokensDep = Annotated[TokenService, Depends(get_tokens)]
DbSession = Annotated[Session, Depends(write_session)]
"""A session for a use case that writes (on SQLite it holds the write lock from its first query)."""
ReadSession = Annotated[Session, Depends(read_session)]
"""A session for reads only."""
