"""Response bodies of the evidence API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from safesphere.evidence.models import Evidence


class EvidenceOut(BaseModel):
    """A stored evidence file and its chain-of-custody record."""

    evidence_id: int
    incident_id: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    width: int
    height: int
    client_filename: str | None = Field(description="The name the uploader gave; informative only.")
    uploaded_by: str
    uploaded_at: datetime
    url: str = Field(description="Where an authority downloads the file.")

    @classmethod
    def from_record(cls, record: Evidence) -> EvidenceOut:
        return cls(
            evidence_id=record.id,
            incident_id=record.incident_id,
            filename=record.filename,
            media_type=record.media_type,
            size_bytes=record.size_bytes,
            sha256=record.sha256,
            width=record.width,
            height=record.height,
            client_filename=record.client_filename,
            uploaded_by=record.uploaded_by,
            uploaded_at=record.uploaded_at,
            url=f"/evidence/{record.id}",
        )


class ScreenshotUploadOut(BaseModel):
    """The document's upload response, plus the custody record of what was stored."""

    success: bool = True
    incident_id: str
    filename: str
    path: str = Field(
        description="Where the file is stored: relative to the data directory, or database:<incident>/<name> "
        "when evidence is kept in the database (SAFESPHERE_EVIDENCE_STORE)."
    )
    evidence: EvidenceOut


class IncidentEvidenceOut(BaseModel):
    incident_id: str
    count: int
    evidence: list[EvidenceOut]


class LegalHoldIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000, description="Why the incident is held (case, order).")


class LegalHoldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    incident_id: str
    reason: str
    placed_by: int | None
    placed_at: datetime
