"""The demo admin ``safesphere simulate`` makes for itself on a database that has no admin yet.

Only the command line does this, writing to the database it is configured for (as ``safesphere users
create`` does); no HTTP route can create an admin. The password is random and kept in the data directory
(0600) so later runs reuse the same account.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from safesphere.auth import service
from safesphere.auth.models import Role
from safesphere.core.db import Database
from safesphere.core.security import verify_password

DEMO_ADMIN_EMAIL = "demo-admin@example.com"
PASSWORD_FILE_NAME = "demo_admin_password"  # noqa: S105 - a file name, not a password


@dataclass(frozen=True)
class DemoAdmin:
    email: str
    password: str
    created: bool
    password_file: Path


def _password(data_dir: Path) -> str:
    """The kept password, or a new one written 0600 (never printed to the log)."""
    path = data_dir / PASSWORD_FILE_NAME
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password)
    return password


def ensure_demo_admin(*, database: Database) -> DemoAdmin | None:
    """The demo admin's credentials, the account created if needed; None when the database already has
    another admin (then the operator passes that admin's credentials instead)."""
    with database.read_session() as session:
        admins = service.list_users(session=session, role=Role.admin, limit=2)
    others = [admin for admin in admins if admin.email != DEMO_ADMIN_EMAIL]
    if others:
        return None
    data_dir = database.settings.data_dir
    password = _password(data_dir)
    created = not admins
    if created:
        with database.session() as session:
            service.create_user(
                session=session, email=DEMO_ADMIN_EMAIL, password=password, role=Role.admin, name="Demo admin"
            )
    elif not verify_password(admins[0].password_hash, password) or not admins[0].is_active:
        # The account exists from an earlier run but the kept password was lost: set it again.
        service.update_user(
            database=database, admin=None, user_id=admins[0].id, is_active=True, role=None, password=password
        )
    return DemoAdmin(DEMO_ADMIN_EMAIL, password, created, data_dir / PASSWORD_FILE_NAME)
