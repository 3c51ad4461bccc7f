"""``GET /admin/audit``: the audit log, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from safesphere.audit import service
from safesphere.audit.schemas import AuditEntryOut
from safesphere.auth.access import AdminUser
from safesphere.core import clock
from safesphere.core.dependencies import ReadSession, SettingsDep
from safesphere.core.errors import responses
from safesphere.core.params import MAX_ID, Instant

router = APIRouter(prefix="/admin", tags=["admin"], responses=responses(401, 403))


@router.get("/audit", response_model=list[AuditEntryOut])
def audit_log(
    response: Response,
    session: ReadSession,
    settings: SettingsDep,
    _: AdminUser,
    actor_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="The acting user's id.")] = None,
    action: Annotated[
        str | None,
        Query(max_length=64, description="An action (`incident.acknowledged`), or a prefix ending in `.`."),
    ] = None,
    target_type: Annotated[str | None, Query(max_length=32, description="`incident`, `user`, …")] = None,
    target_id: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[Instant | None, Query(description="From this time (inclusive).")] = None,
    until: Annotated[Instant | None, Query(description="Before this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AuditEntryOut]:
    """Audited actions, newest first: logins and failed logins, account and engine-key changes, incident
    moves and legal holds, alert handling, evidence downloads, zone edits, exports and account deletions.
    The log is append-only; nothing here or elsewhere changes or deletes an entry."""
    response.headers["Cache-Control"] = "no-store"
    # A naive bound is read in the default zone, as the incident list reads it (unconverted it was a 500).
    since, until = (clock.ensure_utc(t, naive_zone=settings.tz) if t else None for t in (since, until))
    query = service.AuditQuery(actor_id, action, target_type, target_id, since, until)
    entries = service.search(session=session, query=query, limit=limit, offset=offset)
    return [AuditEntryOut.model_validate(entry) for entry in entries]
