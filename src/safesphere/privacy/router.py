"""``GET /me/export`` and ``DELETE /me``: a tourist's own data, all of it, or none of it."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from safesphere.auth.access import TouristUser
from safesphere.core.dependencies import DatabaseDep
from safesphere.core.errors import responses
from safesphere.privacy import service
from safesphere.privacy.schemas import AccountDeleteIn, TouristExportOut

router = APIRouter(tags=["tracking"], responses=responses(401, 403))

NO_STORE = {"Cache-Control": "no-store"}


@router.get("/me/export", response_model=TouristExportOut)
def export_my_data(response: Response, database: DatabaseDep, user: TouristUser) -> TouristExportOut:
    """Everything SafeSphere holds about you, as one JSON document (the export is audited)."""
    response.headers.update(NO_STORE)
    return TouristExportOut.from_export(service.export(database=database, user_id=user.id))


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
def delete_my_account(body: AccountDeleteIn, database: DatabaseDep, user: TouristUser) -> Response:
    """Delete your account with your profile, location history and emergency contacts (confirmed with
    your password). SOS and anomaly alerts you raised stay for the police without your name or message.
    Every token of the account stops working at once."""
    service.delete_account(database=database, user=user, password=body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=NO_STORE)
