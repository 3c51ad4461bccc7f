"""Evidence screenshots and clips: upload by engines and authorities, listing and download by authorities."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, UploadFile, status
from fastapi.responses import FileResponse, Response, StreamingResponse

from safesphere.audit import service as audit
from safesphere.audit.models import AuditAction
from safesphere.auth.access import AdminUser, AuthorityUser, EngineOrAuthority
from safesphere.auth.models import User
from safesphere.core.db import Database
from safesphere.core.dependencies import DatabaseDep, DbSession, ReadSession, SettingsDep
from safesphere.core.errors import responses
from safesphere.evidence import blobs, legal_hold, service
from safesphere.evidence.schemas import (
    EvidenceOut,
    IncidentEvidenceOut,
    LegalHoldIn,
    LegalHoldOut,
    ScreenshotUploadOut,
)
from safesphere.evidence.service import UploadedScreenshot, UploadingEngine
from safesphere.incidents import queries as incidents_queries
from safesphere.incidents.schemas import IncidentId

MAX_EVIDENCE_ID = 2**31 - 1
"""The largest id an INTEGER primary key holds on every supported database."""

router = APIRouter(tags=["evidence"])


def _upload_target(database: Database, incident_id: str, uploader: User | UploadingEngine) -> str:
    """The incident an upload attaches to (404 unknown; an engine only its own incidents: 403)."""
    engine_key_id = None if isinstance(uploader, User) else uploader.key_id
    return incidents_queries.evidence_target(
        database=database, incident_id=incident_id, engine_key_id=engine_key_id
    )


def _upload_out(uploaded: UploadedScreenshot) -> ScreenshotUploadOut:
    return ScreenshotUploadOut(
        incident_id=uploaded.evidence.incident_id,
        filename=uploaded.evidence.filename,
        path=uploaded.data_relative_path,
        evidence=EvidenceOut.from_record(uploaded.evidence),
    )


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
        incident_id=_upload_target(database, incident_id, uploader),
        source=file.file,
        client_filename=file.filename,
        uploader=uploader,
    )
    return _upload_out(uploaded)


@router.post(
    "/upload/clip",
    response_model=ScreenshotUploadOut,
    responses=responses(
        401, 403, n404="Incident not found", n413="Clip too large", n415="Not an MP4 or WebM video clip"
    ),
)
def upload_clip(
    incident_id: Annotated[IncidentId, Form(max_length=64)],
    file: UploadFile,
    database: DatabaseDep,
    settings: SettingsDep,
    uploader: EngineOrAuthority,
) -> ScreenshotUploadOut:
    """Attach a short video clip to an incident (an engine only to incidents it reported), at most
    ``SAFESPHERE_MAX_CLIP_BYTES``. The container must prove it: an MP4 with ``ftyp`` and a ``moov`` holding a
    video track, or a WebM (EBML DocType ``webm``) with a video track; the name and content type are not
    trusted. Downloaded like screenshots (``GET /evidence/{id}``, audited)."""
    uploaded = service.upload_clip(
        database=database,
        settings=settings,
        incident_id=_upload_target(database, incident_id, uploader),
        source=file.file,
        client_filename=file.filename,
        uploader=uploader,
    )
    return _upload_out(uploaded)


@router.get(
    "/incidents/{incident_id}/evidence",
    response_model=IncidentEvidenceOut,
    responses=responses(401, 403, n404="Incident not found"),
)
def list_evidence(
    incident_id: Annotated[IncidentId, Path(max_length=64)], session: ReadSession, _: AuthorityUser
) -> IncidentEvidenceOut:
    """The evidence files of an incident with their size, SHA-256 and uploader."""
    records = incidents_queries.incident_evidence(session=session, incident_id=incident_id)
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
    database: DatabaseDep,
    settings: SettingsDep,
    user: AuthorityUser,
) -> Response:
    """Download an evidence file; ``X-Evidence-SHA256`` carries the digest recorded at upload. Every
    download is in the audit log."""
    found = service.open_evidence(session=session, settings=settings, evidence_id=evidence_id)
    audit.record_alone(database, AuditAction.evidence_downloaded, actor_id=user.id,
                       target=("evidence", evidence_id), incident_id=found.evidence.incident_id)  # fmt: skip
    headers = {"X-Evidence-SHA256": found.evidence.sha256, "X-Content-Type-Options": "nosniff"}
    if found.path is None:  # kept in the database: streamed piece by piece
        headers |= {
            "Content-Length": str(found.evidence.size_bytes),
            "Content-Disposition": f'attachment; filename="{found.evidence.filename}"',
        }
        pieces = blobs.pieces(database=database, evidence_id=found.evidence.id)
        return StreamingResponse(pieces, media_type=found.evidence.media_type, headers=headers)
    return FileResponse(
        found.path, media_type=found.evidence.media_type, filename=found.evidence.filename, headers=headers
    )


@router.post(
    "/incidents/{incident_id}/legal-hold",
    response_model=LegalHoldOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, n404="Incident not found", n409="Already on legal hold"),
)
def place_legal_hold(
    incident_id: Annotated[IncidentId, Path(max_length=64)],
    body: LegalHoldIn,
    session: DbSession,
    admin: AdminUser,
) -> LegalHoldOut:
    """Put an incident and its evidence on legal hold: retention never deletes them until released."""
    incidents_queries.require_incident(session=session, incident_id=incident_id)
    hold = legal_hold.place(session=session, incident_id=incident_id, reason=body.reason, admin_id=admin.id)
    return LegalHoldOut.model_validate(hold)


@router.delete(
    "/incidents/{incident_id}/legal-hold",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(401, 403, n404="No legal hold on this incident"),
)
def release_legal_hold(
    incident_id: Annotated[IncidentId, Path(max_length=64)], session: DbSession, admin: AdminUser
) -> None:
    """Release an incident's legal hold; retention applies to it again from its next purge."""
    legal_hold.release(session=session, incident_id=incident_id, admin_id=admin.id)
