"""Use cases of the tourist's own profile and emergency contacts."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.auth.models import User
from safesphere.core.errors import Conflict, NotFound
from safesphere.notify.models import Audience
from safesphere.notify.routing import Recipient
from safesphere.tracking.models import EmergencyContact, LocationFix, TouristStatus
from safesphere.tracking.schemas import ContactIn, ProfileIn

MAX_CONTACTS = 20
"""More emergency contacts than this is a data-entry loop, not a safety network."""


def update_profile(*, session: Session, user_id: int, profile: ProfileIn) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    for field, value in profile.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    session.commit()
    return user


def list_contacts(*, session: Session, user_id: int) -> list[EmergencyContact]:
    return list(
        session.scalars(
            sa.select(EmergencyContact)
            .where(EmergencyContact.user_id == user_id)
            .order_by(EmergencyContact.id)
        )
    )


def recipients(contacts: Iterable[EmergencyContact]) -> list[Recipient]:
    """Emergency contacts as message recipients (an SOS or an incident's message to contacts)."""
    return [Recipient(Audience.contact, c.name, c.email, c.phone) for c in contacts]


def add_contact(*, session: Session, user_id: int, contact: ContactIn) -> EmergencyContact:
    if len(list_contacts(session=session, user_id=user_id)) >= MAX_CONTACTS:
        raise Conflict(f"At most {MAX_CONTACTS} emergency contacts")
    row = EmergencyContact(user_id=user_id, **contact.model_dump())
    session.add(row)
    session.commit()
    return row


def delete_contact(*, session: Session, user_id: int, contact_id: int) -> None:
    """Deletes one of the user's own contacts; another user's contact is simply not found."""
    row = session.get(EmergencyContact, contact_id)
    if row is None or row.user_id != user_id:
        raise NotFound("Contact not found")
    session.delete(row)
    session.commit()


def forget_tourist(*, session: Session, tourist_id: int) -> dict[str, int]:
    """Delete a tourist's status, location fixes and emergency contacts in the caller's transaction (no
    commit); how many of each went, for the audit log."""
    session.execute(sa.delete(TouristStatus).where(TouristStatus.tourist_id == tourist_id))
    fixes = session.execute(sa.delete(LocationFix).where(LocationFix.tourist_id == tourist_id))
    contacts = session.execute(sa.delete(EmergencyContact).where(EmergencyContact.user_id == tourist_id))
    return {"fixes": fixes.rowcount, "contacts": contacts.rowcount}  # type: ignore[attr-defined]
