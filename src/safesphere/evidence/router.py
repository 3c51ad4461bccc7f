"""Evidence screenshots: upload by engines and authorities, listing and download by authorities."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, UploadFile
from fastapi.responses import FileResponse

from safesphere.auth.access import AuthorityUser, EngineOrAuthority
from safesphere.core.dependencies import DatabaseDep, ReadSession, SettingsDep
from safesphere.core.errors import responses
from safesphere.evidence import service
from safesphere.evidence.schemas import EvidenceOut, IncidentEvidenceOut, ScreenshotUploadOut
from safesphere.incidents.schemas import IncidentId

MAX_EVIDENCE_ID = 2**31 - 1
"""The largest id an INTEGER primary key holds on every supported database."""

router = APIRouter(tags=["evidence"])


@router.post(
    "/upload/screenshot",
    response_model=ScreenshotUploadOut,
    responses=responses(
        401, 403, n404="Incident not found", n413="File too large", n415="Not a JPEG, PNG or WebP image"
    ),
)
def upload_screenshot(
    incident_id: Annotated[IncidentId, Form(max_length=64)],
    file: UploadFile,
    database: DatabaseDep,
    settings: SettingsDep,
    uploader: EngineOrAuthority,
) -> ScreenshotUploadOut:
    """Attach a screenshot to an incident (an engine only to incidents it reported).

    The bytes must decode as JPEG, PNG or WebP; the file's name and content type are not trusted.
    """
    uploaded = service.upload_screenshot(
        database=database,
        settings=settings,
        incident_id=incident_id,
        source=file.file,
        client_filename=file.filename,
        uploader=uploader,
    )
    return ScreenshotUploadOut(
        incident_id=uploaded.evidence.incident_id,
        filename=uploaded.evidence.filename,
        path=uploaded.data_relative_path,
        evidence=EvidenceOut.from_record(uploaded.evidence),
    )


@router.get(
    "/incidents/{incident_id}/evidence",
    response_model=IncidentEvidenceOut,
    responses=responses(401, 403, n404="Incident not found"),
)
def list_evidence(
    incident_id: Annotated[IncidentId, Path(max_length=64)], session: ReadSession, _: AuthorityUser
) -> IncidentEvidenceOut:
    """The evidence files of an incident with their size, SHA-256 and uploader."""
    records = service.list_incident_evidence(session=session, incident_id=incident_id)
    return IncidentEvidenceOut(
        incident_id=incident_id, count=len(records), evidence=[EvidenceOut.from_record(r) for r in records]
    )


@router.get(
    "/evidence/{evidence_id}",
    response_class=FileResponse,
    responses=responses(401, 403, n404="Evidence not found"),
)
def download_evidence(
    evidence_id: Annotated[int, Path(ge=1, le=MAX_EVIDENCE_ID)],
    session: ReadSession,
    settings: SettingsDep,
    _: AuthorityUser,
) -> FileResponse:
    """Download an evidence file; ``X-Evidence-SHA256`` carries the digest recorded at upload."""
    found = service.open_evidence(session=session, settings=settings, evidence_id=evidence_id)
    return FileResponse(
        found.path,
        media_type=found.evidence.media_type,
        filename=found.evidence.filename,
        headers={"X-Evidence-SHA256": found.evidence.sha256, "X-Content-Type-Options": "nosniff"},
    )
