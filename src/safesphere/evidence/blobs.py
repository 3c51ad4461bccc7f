"""Evidence bytes kept in the database (``SAFESPHERE_EVIDENCE_STORE=database``): every instance on the
database reads them, where a data directory is one host's. They are written in ``CHUNK_BYTES`` pieces in
the custody row's own transaction and read back one piece per query, so neither side holds a whole file
in memory; deleting the ``evidence`` row (retention) deletes its pieces (the foreign key cascades)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.core.db import Database, table
from safesphere.evidence.models import EvidenceChunk
from safesphere.evidence.storage import CHUNK_BYTES

_C = table(EvidenceChunk).c
_INSERT = sa.insert(table(EvidenceChunk))
_PIECE = sa.select(_C.data).where(
    _C.evidence_id == sa.bindparam("evidence_id"), _C.number == sa.bindparam("n")
)
_STORED = sa.select(sa.func.count()).where(_C.evidence_id == sa.bindparam("evidence_id"))


def save(*, session: Session, evidence_id: int, path: Path) -> None:
    """Copies the verified file at ``path`` into the database, in the caller's transaction (no commit)."""
    connection = session.connection()
    with path.open("rb") as source:
        number = 0
        while piece := source.read(CHUNK_BYTES):
            connection.execute(_INSERT, {"evidence_id": evidence_id, "number": number, "data": piece})
            number += 1


def is_stored(*, session: Session, evidence_id: int) -> bool:
    return bool(session.connection().scalar(_STORED, {"evidence_id": evidence_id}))


def pieces(*, database: Database, evidence_id: int) -> Iterator[bytes]:
    """The file's bytes in order, one short read transaction per piece (a slow download holds no
    connection between pieces)."""
    number = 0
    while True:
        with database.read_session() as session:
            piece = session.connection().scalar(_PIECE, {"evidence_id": evidence_id, "n": number})
        if piece is None:
            return
        yield bytes(piece)
        number += 1
