"""Use cases of the units registry, and dispatching units to incidents.

Incidents call this domain (``dispatch``, ``release_incident``) inside their own move's transaction;
this domain knows an incident only by its id and never reads or writes the incidents' tables.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safesphere.audit import service as audit
from safesphere.audit.models import AuditAction
from safesphere.core import clock
from safesphere.core.errors import Conflict, InvalidInput, NotFound
from safesphere.units import status as rules
from safesphere.units.models import Unit, UnitAssignment, UnitStatus
from safesphere.units.schemas import UnitIn, UnitPatch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnitView:
    unit: Unit
    incident_ids: list[str]


def _open_incidents(session: Session, unit_ids: list[int]) -> dict[int, list[str]]:
    rows = session.execute(
        sa.select(UnitAssignment.unit_id, UnitAssignment.incident_id)
        .where(UnitAssignment.unit_id.in_(unit_ids), UnitAssignment.released_at.is_(None))
        .order_by(UnitAssignment.id)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for unit_id, incident_id in rows:
        found[unit_id].append(incident_id)
    return found


def _name_taken(session: Session, name: str, *, other_than: int | None = None) -> bool:
    query = sa.select(Unit.id).where(sa.func.lower(Unit.name) == name.lower())
    if other_than is not None:
        query = query.where(Unit.id != other_than)
    return session.scalar(query.limit(1)) is not None


def _commit_named(session: Session, name: str) -> None:
    """Commits; a unique-name race lost to another officer is the same 409 as the check before."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"A unit named '{name}' already exists") from exc


def create_unit(*, session: Session, unit_in: UnitIn, actor_id: int | None) -> UnitView:
    if _name_taken(session, unit_in.name):
        raise Conflict(f"A unit named '{unit_in.name}' already exists")
    now = clock.now()
    unit = Unit(name=unit_in.name, type=unit_in.type.value, status=unit_in.status, created_at=now,
                updated_at=now)  # fmt: skip
    if unit_in.position is not None:
        unit.latitude, unit.longitude, unit.position_at = unit_in.position.lat, unit_in.position.lon, now
    session.add(unit)
    session.flush()
    audit.record(session, AuditAction.unit_created, actor_id=actor_id, target=("unit", unit.id),
                 name=unit.name)  # fmt: skip
    _commit_named(session, unit_in.name)
    return UnitView(unit, [])


def get_unit(*, session: Session, unit_id: int) -> UnitView:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("Unit not found")
    return UnitView(unit, _open_incidents(session, [unit.id]).get(unit.id, []))


def list_units(*, session: Session, status: UnitStatus | None = None) -> list[UnitView]:
    """Every unit (of one status), by name, each with the open incidents it is on."""
    query = sa.select(Unit).order_by(Unit.name, Unit.id)
    if status is not None:
        query = query.where(Unit.status == status.value)
    units = list(session.scalars(query))
    incidents = _open_incidents(session, [unit.id for unit in units])
    return [UnitView(unit, incidents.get(unit.id, [])) for unit in units]


def update_unit(*, session: Session, unit_id: int, patch: UnitPatch, actor_id: int | None) -> UnitView:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("Unit not found")
    changes = patch.model_dump(exclude_unset=True)
    for field in ("name", "type", "status"):
        if changes.get(field) is None:
            changes.pop(field, None)  # required columns: an explicit null leaves them as they are
    if "name" in changes and _name_taken(session, changes["name"], other_than=unit.id):
        raise Conflict(f"A unit named '{changes['name']}' already exists")
    now = clock.now()
    for field in ("name", "type", "status"):
        if field in changes:
            setattr(unit, field, str(changes[field]))
    if "position" in changes:
        position = patch.position
        unit.latitude = position.lat if position else None
        unit.longitude = position.lon if position else None
        unit.position_at = now if position else None
    unit.updated_at = now
    audit.record(session, AuditAction.unit_updated, actor_id=actor_id, target=("unit", unit.id),
                 fields=sorted(changes))  # fmt: skip
    _commit_named(session, unit.name)
    return get_unit(session=session, unit_id=unit_id)


def delete_unit(*, session: Session, unit_id: int, actor_id: int | None) -> None:
    """Removes a unit and its assignment history; 409 while it is on an open incident."""
    view = get_unit(session=session, unit_id=unit_id)
    if view.incident_ids:
        raise Conflict(
            f"Unit '{view.unit.name}' is dispatched to {', '.join(view.incident_ids)}: close those first"
        )
    audit.record(session, AuditAction.unit_deleted, actor_id=actor_id, target=("unit", unit_id),
                 name=view.unit.name)  # fmt: skip
    session.delete(view.unit)
    session.commit()


def dispatchable_name(*, session: Session, unit_id: int) -> str:
    """The name of a unit that can be sent now: 422 for an unknown unit, 409 for one not available."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise InvalidInput(f"No unit with id {unit_id}", loc=("body", "unit_id"))
    if not rules.can_dispatch(unit.status):
        raise Conflict(f"Unit '{unit.name}' is {unit.status}: pick an available unit")
    return unit.name


def dispatch(*, session: Session, unit_id: int, incident_id: str, user_id: int | None) -> None:
    """Marks the unit dispatched to the incident, in the caller's transaction. The UPDATE is conditional
    on the unit being available, so two officers cannot send one unit to two incidents at once."""
    now = clock.now()
    claimed = session.execute(
        sa.update(Unit)
        .where(Unit.id == unit_id, Unit.status == UnitStatus.available.value)
        .values(status=UnitStatus.dispatched.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        name = session.scalar(sa.select(Unit.name).where(Unit.id == unit_id))
        if name is None:
            raise InvalidInput(f"No unit with id {unit_id}", loc=("body", "unit_id"))
        raise Conflict(f"Unit '{name}' was taken meanwhile: pick an available unit")
    session.add(
        UnitAssignment(unit_id=unit_id, incident_id=incident_id, assigned_at=now, assigned_by=user_id)
    )
    session.flush()


def release_incident(*, session: Session, incident_id: str, at: datetime | None = None) -> list[int]:
    """The incident closed: its assignments end, and each unit whose last incident it was is available
    again unless set busy or off by hand. Returns the units released; in the caller's transaction."""
    at = at or clock.now()
    unit_ids = list(
        session.scalars(
            sa.select(UnitAssignment.unit_id).where(
                UnitAssignment.incident_id == incident_id, UnitAssignment.released_at.is_(None)
            )
        )
    )
    if not unit_ids:
        return []
    session.execute(
        sa.update(UnitAssignment)
        .where(UnitAssignment.incident_id == incident_id, UnitAssignment.released_at.is_(None))
        .values(released_at=at)
        .execution_options(synchronize_session=False)
    )
    still_on = _open_incidents(session, unit_ids)
    for unit in session.scalars(
        sa.select(Unit).where(Unit.id.in_(unit_ids)).execution_options(populate_existing=True)
    ):
        status = rules.after_release(unit.status, open_assignments_left=len(still_on.get(unit.id, [])))
        if status != unit.status:
            unit.status, unit.updated_at = status, at
    session.flush()
    log.info("units %s released from incident %s", unit_ids, incident_id, extra={"incident_id": incident_id})
    return unit_ids
