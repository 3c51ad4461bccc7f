"""Use cases of evidence: attach a verified screenshot or clip to an incident, list it, open it."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from typing import Protocol as Interface

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.auth.models import User
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.errors import NotFound
from safesphere.evidence import blobs, containers, storage
from safesphere.evidence.models import Evidence

logger = logging.getLogger(__name__)

MAX_CLIENT_FILENAME = 255
"""Kept for the record only; longer names are cut."""


class UploadingEngine(Interface):
    """An authenticated engine (``auth.access.EnginePrincipal`` is one)."""

    @property
    def key_id(self) -> int: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class UploadedScreenshot:
    evidence: Evidence
    data_relative_path: str


def _uploader_fields(uploader: User | UploadingEngine) -> dict[str, object]:
    if isinstance(uploader, User):
        return {"uploaded_by": f"{uploader.role} {uploader.email}", "uploaded_by_user_id": uploader.id}
    return {"uploaded_by": f"engine key {uploader.name}", "uploaded_by_engine_key_id": uploader.key_id}


def upload_screenshot(
    *,
    database: Database,
    settings: Settings,
    incident_id: str,
    source: BinaryIO,
    client_filename: str | None,
    uploader: User | UploadingEngine,
) -> UploadedScreenshot:
    """Stores a verified JPEG/PNG/WebP for an incident (``incident_id`` as checked by
    ``incidents.queries.evidence_target``) and records its custody row.

    The file is decoded before any write lock is taken; if the row cannot be committed the file is removed,
    so the evidence table and the directory never disagree. With ``evidence_store = database`` the bytes
    are copied into the database in the row's transaction and the local file removed after the commit.
    """
    stored = storage.store_image(
        source=source,
        evidence_dir=settings.evidence_dir,
        incident_id=incident_id,
        max_bytes=settings.max_upload_bytes,
        max_decodes=settings.max_concurrent_image_decodes,
    )
    return _keep(database, settings, incident_id, stored, client_filename, uploader)


def upload_clip(
    *,
    database: Database,
    settings: Settings,
    incident_id: str,
    source: BinaryIO,
    client_filename: str | None,
    uploader: User | UploadingEngine,
) -> UploadedScreenshot:
    """Stores an MP4 or WebM clip proven by its container (``containers``) with its custody row, like a
    screenshot: SHA-256, a server-made name, the configured store (``incident_id`` as checked by
    ``incidents.queries.evidence_target``)."""

    def verify(path: Path) -> storage.Verified:
        clip = containers.identify_clip(path)
        return storage.Verified(clip.media_type, clip.extension, clip.width, clip.height)

    stored = storage.store_verified(
        source=source,
        evidence_dir=settings.evidence_dir,
        incident_id=incident_id,
        max_bytes=settings.max_clip_bytes,
        verify=verify,
    )
    return _keep(database, settings, incident_id, stored, client_filename, uploader)


def _keep(
    database: Database,
    settings: Settings,
    incident_id: str,
    stored: storage.StoredFile,
    client_filename: str | None,
    uploader: User | UploadingEngine,
) -> UploadedScreenshot:
    """The custody row of a verified file (and its bytes, with the database store), or nothing at all."""
    try:
        with database.session() as session:
            record = Evidence(
                incident_id=incident_id,
                filename=stored.filename,
                stored_path=stored.relative_path,
                media_type=stored.media_type,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                width=stored.width,
                height=stored.height,
                client_filename=client_filename[:MAX_CLIENT_FILENAME] if client_filename else None,
                store=settings.evidence_store,
                **_uploader_fields(uploader),
            )
            session.add(record)
            if settings.evidence_store == "database":
                session.flush()
                blobs.save(session=session, evidence_id=record.id, path=stored.path)
            session.commit()
    except BaseException:
        storage.discard(stored.path)
        raise
    if settings.evidence_store == "database":
        storage.discard(stored.path)
        with contextlib.suppress(OSError):  # the incident's folder, once empty
            stored.path.parent.rmdir()
    logger.info(
        "evidence %s stored for incident %s",
        record.id,
        incident_id,
        extra={"incident_id": incident_id, "sha256": stored.sha256},
    )
    if settings.evidence_store == "database":
        return UploadedScreenshot(record, f"database:{stored.relative_path}")
    return UploadedScreenshot(record, f"{settings.evidence_dir.name}/{stored.relative_path}")


def list_for_incident(*, session: Session, incident_id: str) -> list[Evidence]:
    """The evidence of an incident, oldest first (an unknown incident has none)."""
    query = sa.select(Evidence).where(Evidence.incident_id == incident_id).order_by(Evidence.id)
    return list(session.scalars(query))


def list_for_incidents(*, session: Session, incident_ids: list[str]) -> list[Evidence]:
    """The evidence of several incidents (a case and its grouped reports), oldest first."""
    query = sa.select(Evidence).where(Evidence.incident_id.in_(incident_ids)).order_by(Evidence.id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class EvidenceFile:
    """A record and where its bytes are: ``path`` on disk, or None when they are in the database."""

    evidence: Evidence
    path: Path | None


def open_evidence(*, session: Session, settings: Settings, evidence_id: int) -> EvidenceFile:
    """The record and the place of one evidence file's bytes; 404 when either is missing."""
    record = session.get(Evidence, evidence_id)
    if record is None:
        raise NotFound("Evidence not found")
    if record.store == "database":
        if not blobs.is_stored(session=session, evidence_id=record.id):
            logger.error(
                "evidence %s has no stored bytes", record.id, extra={"incident_id": record.incident_id}
            )
            raise NotFound("Evidence file not found")
        return EvidenceFile(record, None)
    root = settings.evidence_dir.resolve()
    path = (root / record.stored_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        logger.error(
            "evidence %s has no file at %s",
            record.id,
            record.stored_path,
            extra={"incident_id": record.incident_id},
        )
        raise NotFound("Evidence file not found")
    return EvidenceFile(record, path)
