"""Owner-only modes for what the data directory holds: password hashes, location histories, contacts,
evidence and secrets are for the server's account alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
PRIVATE_UMASK = 0o077
"""The process umask while serving: anything created later (SQLite's -wal/-shm, evidence, spools) is
owner-only without each call remembering to say so."""


def make_private_dir(path: Path) -> None:
    """Creates ``path`` (and parents) as 0700 if missing."""
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)


def create_private_file(path: Path) -> None:
    """Creates ``path`` empty and 0600 unless it exists, so SQLite opens a file that is already private."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(descriptor)


def restrict_tree(root: Path) -> list[Path]:
    """Sets ``root`` and the directories under it to 0700 and its files to 0600; returns what it changed.

    Symbolic links are neither followed nor changed: the data directory's own files are what it guards."""
    if not root.is_dir():
        return []
    changed: list[Path] = []
    if _chmod(root, DIRECTORY_MODE):
        changed.append(root)
    for directory, subdirectories, filenames in os.walk(root):
        for name in subdirectories:
            path = Path(directory) / name
            if not path.is_symlink() and _chmod(path, DIRECTORY_MODE):
                changed.append(path)
        for name in filenames:
            path = Path(directory) / name
            if not path.is_symlink() and _chmod(path, FILE_MODE):
                changed.append(path)
    return changed


def _chmod(path: Path, mode: int) -> bool:
    if stat.S_IMODE(path.stat().st_mode) == mode:
        return False
    path.chmod(mode)
    return True
