"""Use cases of the audit log: record an action (in the action's own transaction), read the log.

Append-only: there is no route or function that changes or deletes an entry, the database refuses UPDATE
and DELETE on the table (triggers, migration 0022), and retention never purges it. An entry names the
actor and the target by id and carries a few non-secret details; it never holds a password, token, key
or hash (``record`` refuses such detail names).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.audit.models import AuditAction, AuditEntry
from safesphere.core import clock
from safesphere.core.db import Database, table

SECRET_WORDS = frozenset({"password", "token", "secret", "key", "hash", "authorization"})
"""Detail names that would carry a credential; ``record`` refuses them, so a hook cannot leak one."""

_INSERT = sa.insert(table(AuditEntry))

Target = tuple[str, str | int]
"""What was acted on: (kind, id), e.g. ``("incident", "INC_…")`` or ``("user", 7)``."""


def _check_details(details: dict[str, Any]) -> None:
    for name in details:
        if SECRET_WORDS.intersection(name.lower().split("_")):
            raise ValueError(f"audit details must not carry secrets: {name!r}")


def record(
    session: Session,
    action: AuditAction | str,
    *,
    actor_id: int | None = None,
    target: Target | None = None,
    address: str | None = None,
    **details: Any,
) -> None:
    """Add an entry in the caller's transaction (it commits with the action, or not at all). ``action``
    is one of ``AuditAction``, or a name of the same form (``incident.<timeline event>``)."""
    _check_details(details)
    session.connection().execute(
        _INSERT,
        {
            "at": clock.now(),
            "action": str(action),
            "actor_id": actor_id,
            "target_type": target[0] if target else None,
            "target_id": str(target[1]) if target else None,
            "address": address,
            "details": details,
        },
    )


def record_alone(
    database: Database,
    action: AuditAction | str,
    *,
    actor_id: int | None = None,
    target: Target | None = None,
    address: str | None = None,
    **details: Any,
) -> None:
    """An entry in its own short write transaction, for an action that writes nothing else (a login, a
    download, an export)."""
    with database.session() as session:
        record(session, action, actor_id=actor_id, target=target, address=address, **details)
        session.commit()


@dataclass(frozen=True)
class AuditQuery:
    """A filter over the log; every field is optional. ``action`` ending in ``.`` is a prefix."""

    actor_id: int | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search(*, session: Session, query: AuditQuery, limit: int, offset: int) -> list[AuditEntry]:
    """Entries matching ``query``, newest first."""
    where: list[sa.ColumnElement[bool]] = []
    if query.actor_id is not None:
        where.append(AuditEntry.actor_id == query.actor_id)
    if query.action is not None:
        if query.action.endswith("."):
            where.append(AuditEntry.action.startswith(query.action, autoescape=True))
        else:
            where.append(AuditEntry.action == query.action)
    if query.target_type is not None:
        where.append(AuditEntry.target_type == query.target_type)
    if query.target_id is not None:
        where.append(AuditEntry.target_id == query.target_id)
    if query.since is not None:
        where.append(AuditEntry.at >= query.since)
    if query.until is not None:
        where.append(AuditEntry.at < query.until)
    statement = sa.select(AuditEntry).where(*where).order_by(AuditEntry.id.desc())
    return list(session.scalars(statement.limit(limit).offset(offset)))
