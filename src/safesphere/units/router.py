"""The units registry over HTTP, for authorities: list, create, change (status by hand, position), delete."""

from __future__ import annotations

from fastapi import APIRouter, status

from safesphere.auth.access import AuthorityUser
from safesphere.core.dependencies import DbSession, ReadSession
from safesphere.core.errors import responses
from safesphere.core.params import PathId
from safesphere.units import service
from safesphere.units.models import UnitStatus, UnitType
from safesphere.units.schemas import PositionOut, UnitIn, UnitListOut, UnitOut, UnitPatch

router = APIRouter(prefix="/units", tags=["units"], responses=responses(401, 403))
NOT_FOUND = responses(n404="Unit not found")


def unit_out(view: service.UnitView) -> UnitOut:
    unit = view.unit
    position = (
        None
        if unit.latitude is None or unit.longitude is None
        else PositionOut(lat=unit.latitude, lon=unit.longitude, at=unit.position_at)
    )
    return UnitOut(
        id=unit.id,
        name=unit.name,
        type=UnitType(unit.type),
        status=UnitStatus(unit.status),
        position=position,
        incident_ids=view.incident_ids,
        created_at=unit.created_at,
        updated_at=unit.updated_at,
    )


@router.get("", response_model=UnitListOut)
def list_units(session: ReadSession, _: AuthorityUser, status: UnitStatus | None = None) -> UnitListOut:
    """Every unit by name (or those of one status), each with the open incidents it is dispatched to."""
    units = [unit_out(view) for view in service.list_units(session=session, status=status)]
    return UnitListOut(count=len(units), units=units)


@router.post(
    "", response_model=UnitOut, status_code=status.HTTP_201_CREATED,
    responses=responses(n409="A unit of that name exists"),
)  # fmt: skip
def create_unit(body: UnitIn, session: DbSession, user: AuthorityUser) -> UnitOut:
    """Register a unit (available unless said otherwise); names are unique, ignoring case."""
    return unit_out(service.create_unit(session=session, unit_in=body, actor_id=user.id))


@router.get("/{unit_id}", response_model=UnitOut, responses=NOT_FOUND)
def get_unit(unit_id: PathId, session: ReadSession, _: AuthorityUser) -> UnitOut:
    """One unit with the open incidents it is dispatched to."""
    return unit_out(service.get_unit(session=session, unit_id=unit_id))


@router.patch(
    "/{unit_id}", response_model=UnitOut,
    responses=responses(n404="Unit not found", n409="A unit of that name exists"),
)  # fmt: skip
def update_unit(unit_id: PathId, body: UnitPatch, session: DbSession, user: AuthorityUser) -> UnitOut:
    """Rename, retype, set the status by hand (available, busy, off) or move a unit."""
    return unit_out(service.update_unit(session=session, unit_id=unit_id, patch=body, actor_id=user.id))


@router.delete(
    "/{unit_id}", status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(n404="Unit not found", n409="The unit is on an open incident"),
)  # fmt: skip
def delete_unit(unit_id: PathId, session: DbSession, user: AuthorityUser) -> None:
    """Remove a unit and its assignment history; refused while it is dispatched to an open incident."""
    service.delete_unit(session=session, unit_id=unit_id, actor_id=user.id)
