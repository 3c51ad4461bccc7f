"""Evidence files attached to incidents, with what chain of custody needs: size, hash, type, uploader."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from safesphere.core import clock
from safesphere.core.db import Base, UTCDateTime


class Evidence(Base):
    """One stored file; ``stored_path`` is relative to the evidence directory and made by the server.
    ``store`` says where its bytes are: ``directory`` (that path) or ``database`` (``evidence_chunks``)."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        sa.ForeignKey("incidents.incident_id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(200), unique=True)
    stored_path: Mapped[str] = mapped_column(sa.String(300))
    media_type: Mapped[str] = mapped_column(sa.String(32))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    width: Mapped[int]
    height: Mapped[int]
    client_filename: Mapped[str | None] = mapped_column(sa.String(255))
    uploaded_by: Mapped[str] = mapped_column(sa.String(400))
    uploaded_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_by_engine_key_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("engine_keys.id", ondelete="SET NULL")
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    store: Mapped[str] = mapped_column(sa.String(16), default="directory", server_default="directory")


class EvidenceChunk(Base):
    """One piece, in order, of an evidence file kept in the database (``evidence/blobs.py``)."""

    __tablename__ = "evidence_chunks"

    evidence_id: Mapped[int] = mapped_column(
        sa.ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class LegalHold(Base):
    """An incident under legal hold: retention keeps it and its evidence, however old, until released."""

    __tablename__ = "legal_holds"

    incident_id: Mapped[str] = mapped_column(
        sa.ForeignKey("incidents.incident_id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(sa.Text)
    placed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
