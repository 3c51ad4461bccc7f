"""Use cases of a tourist's rights over their data: a full export (``GET /me/export``) and deletion of
the account (``DELETE /me``). Both are audited.

Deletion removes the profile, location fixes (with their scores), current status, emergency contacts,
share links and the warnings addressed to them; the SOS and anomaly alerts they raised stay for the
police, anonymised (no tourist, no message), and incidents they were the protected person of lose the
link to them. Engine keys bound to the account are revoked. The audit log keeps the account's number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.alerts import service as alerts_service
from safesphere.alerts.models import Alert
from safesphere.audit import service as audit
from safesphere.audit.models import AuditAction
from safesphere.auth import service as auth_service
from safesphere.auth.models import User
from safesphere.core import clock
from safesphere.core.db import Database
from safesphere.core.errors import InvalidInput, NotFound
from safesphere.core.security import verify_password
from safesphere.incidents.models import Incident, ShareLink
from safesphere.tracking import contacts
from safesphere.tracking.models import EmergencyContact, LocationFix, TouristStatus


@dataclass(frozen=True)
class TouristExport:
    """Everything SafeSphere holds about one tourist."""

    exported_at: datetime
    user: User
    status: TouristStatus | None
    fixes: list[LocationFix]
    contacts: list[EmergencyContact]
    alerts: list[Alert]
    incidents: list[Incident]
    shares: list[ShareLink]


def _read_export(session: Session, user_id: int) -> TouristExport:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    fixes = sa.select(LocationFix).where(LocationFix.tourist_id == user_id).order_by(LocationFix.timestamp)
    alerts = sa.select(Alert).where(Alert.tourist_id == user_id).order_by(Alert.occurred_at, Alert.id)
    incidents = sa.select(Incident).where(Incident.owner_id == user_id).order_by(Incident.timestamp)
    shares = sa.select(ShareLink).where(ShareLink.owner_id == user_id).order_by(ShareLink.id)
    return TouristExport(
        exported_at=clock.now(),
        user=user,
        status=session.get(TouristStatus, user_id),
        fixes=list(session.scalars(fixes)),
        contacts=contacts.list_contacts(session=session, user_id=user_id),
        alerts=list(session.scalars(alerts)),
        incidents=list(session.scalars(incidents)),
        shares=list(session.scalars(shares)),
    )


def export(*, database: Database, user_id: int) -> TouristExport:
    """All of a tourist's data, read in one snapshot; the export is audited."""
    with database.read_session() as session:
        found = _read_export(session, user_id)
    audit.record_alone(database, AuditAction.data_exported, actor_id=user_id, target=("user", user_id),
                       fixes=len(found.fixes), alerts=len(found.alerts))  # fmt: skip
    return found


def delete_account(*, database: Database, user: User, password: str) -> None:
    """Delete a tourist's account and data (see the module's docstring) after checking their password,
    in one transaction with its audit entry; the password is checked before the write lock."""
    if not verify_password(user.password_hash, password):
        raise InvalidInput("The password is not correct", loc=("body", "password"))
    with database.session() as session:
        gone = contacts.forget_tourist(session=session, tourist_id=user.id)
        kept = alerts_service.anonymise_tourist(session=session, tourist_id=user.id)
        auth_service.delete_user(session=session, user_id=user.id)
        audit.record(session, AuditAction.account_deleted, actor_id=user.id, target=("user", user.id),
                     alerts_anonymised=kept, fixes=gone["fixes"], contacts=gone["contacts"])  # fmt: skip
        session.commit()
