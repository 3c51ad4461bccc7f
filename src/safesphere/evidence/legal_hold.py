"""Legal hold: an admin freezes an incident and its evidence so retention never deletes them, until an
admin releases it. Both are audited in the same transaction."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safesphere.audit import service as audit
from safesphere.audit.models import AuditAction
from safesphere.core import clock
from safesphere.core.errors import Conflict, NotFound
from safesphere.evidence.models import LegalHold


def held_incidents() -> sa.Select[tuple[str]]:
    """The ids of incidents under legal hold (retention excludes them)."""
    return sa.select(LegalHold.incident_id)


def get(*, session: Session, incident_id: str) -> LegalHold | None:
    return session.get(LegalHold, incident_id)


def place(*, session: Session, incident_id: str, reason: str, admin_id: int) -> LegalHold:
    """Put an incident on hold (the caller checked it exists); 409 when it is already held."""
    hold = LegalHold(incident_id=incident_id, reason=reason, placed_by=admin_id, placed_at=clock.now())
    session.add(hold)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("This incident is already on legal hold") from exc
    audit.record(session, AuditAction.legal_hold_placed, actor_id=admin_id,
                 target=("incident", incident_id), reason=reason)  # fmt: skip
    session.commit()
    return hold


def release(*, session: Session, incident_id: str, admin_id: int) -> None:
    """Lift an incident's hold (retention applies again from the next purge); 404 when it has none."""
    deleted = session.execute(sa.delete(LegalHold).where(LegalHold.incident_id == incident_id))
    if deleted.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise NotFound("This incident has no legal hold")
    audit.record(
        session, AuditAction.legal_hold_released, actor_id=admin_id, target=("incident", incident_id)
    )
    session.commit()
