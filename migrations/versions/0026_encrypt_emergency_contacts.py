"""emergency_contacts.phone and .email encrypted at rest (Fernet, core/encryption.py): existing rows are
encrypted with the installation's field key

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from safesphere.core.config import Settings
from safesphere.core.encryption import PREFIX, FieldCipher

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELDS = ("phone", "email")
PLAIN_LENGTHS = {"phone": 40, "email": 320}


def _cipher() -> FieldCipher:
    return FieldCipher.from_settings(context.config.attributes.get("settings") or Settings())


def _rewrite(change: str) -> None:
    """Encrypt (or decrypt) every stored phone and e-mail, row by row in this migration's transaction."""
    cipher, bind = _cipher(), op.get_bind()
    contacts = sa.table("emergency_contacts", sa.column("id"), *(sa.column(f) for f in FIELDS))
    for row in bind.execute(sa.select(contacts)).mappings().all():
        values = {}
        for field in FIELDS:
            value = row[field]
            if value is None:
                continue
            if change == "encrypt" and not value.startswith(PREFIX):
                values[field] = cipher.encrypt(value)
            elif change == "decrypt" and value.startswith(PREFIX):
                values[field] = cipher.decrypt(value)
        if values:
            bind.execute(sa.update(contacts).where(contacts.c.id == row["id"]).values(**values))


def upgrade() -> None:
    with op.batch_alter_table("emergency_contacts") as batch:
        for field, length in PLAIN_LENGTHS.items():
            batch.alter_column(
                field, type_=sa.Text(), existing_type=sa.String(length), existing_nullable=True
            )
    _rewrite("encrypt")


def downgrade() -> None:
    _rewrite("decrypt")
    with op.batch_alter_table("emergency_contacts") as batch:
        for field, length in PLAIN_LENGTHS.items():
            batch.alter_column(
                field, type_=sa.String(length), existing_type=sa.Text(), existing_nullable=True
            )
