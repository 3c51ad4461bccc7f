"""A consistent copy of a running SQLite installation: the database and the evidence files.

``VACUUM INTO`` writes the database as of one read transaction, so writers keep going meanwhile and the
copy is a compacted, self-contained file (no WAL beside it). Evidence files are never changed once
stored, so copying them after the database snapshot gives every row its file (files newer than the
snapshot are copied too, harmlessly). The JWT secret is left out: a restored server without it makes a
new one and users log in again, and a backup does not carry a key to forge tokens. The field key
(``<data_dir>/field_key``) is copied: without it the contacts' encrypted phone and e-mail could never be
read again (a key set in ``SAFESPHERE_FIELD_ENCRYPTION_KEY`` is the operator's to keep). PostgreSQL has
its own tools (``pg_dump``).
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from safesphere.core import encryption
from safesphere.core.config import Settings
from safesphere.core.errors import Conflict, InvalidInput

BACKUP_DATABASE = "safesphere.db"
"""The file name ``data_dir`` uses, so a backup directory is a data directory."""


@dataclass(frozen=True)
class Backup:
    database: Path
    evidence_files: int
    bytes: int


def back_up(*, settings: Settings, target: Path) -> Backup:
    """Write a consistent copy of the database and the evidence into ``target`` (a new or empty folder)."""
    if not settings.is_sqlite:
        raise InvalidInput("Backups of PostgreSQL are made with pg_dump", loc=("database_url",))
    if target.exists() and any(target.iterdir()):
        raise Conflict(f"{target} is not empty; back up into a new folder")
    target.mkdir(parents=True, exist_ok=True)
    copy = target / BACKUP_DATABASE
    live = sqlite3.connect(str(sa.make_url(settings.resolved_database_url).database), isolation_level=None)
    try:
        live.execute(f"PRAGMA busy_timeout = {settings.sqlite_busy_timeout_ms}")
        live.execute("VACUUM INTO ?", (str(copy),))
    finally:
        live.close()
    evidence_files = 0
    if settings.evidence_dir.exists():
        for source in sorted(settings.evidence_dir.rglob("*")):
            if source.is_file() and not source.name.startswith("."):
                destination = target / "evidence" / source.relative_to(settings.evidence_dir)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)
                evidence_files += 1
    field_key = settings.data_dir / encryption.KEY_FILE_NAME
    if field_key.is_file():
        shutil.copy2(field_key, target / encryption.KEY_FILE_NAME)  # keeps its 0600
    check = sqlite3.connect(str(copy))
    try:
        verdict = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if verdict != "ok":
        raise InvalidInput(f"The copy failed its integrity check: {verdict}", loc=("target",))
    size = sum(path.stat().st_size for path in target.rglob("*") if path.is_file())
    return Backup(copy, evidence_files, size)
