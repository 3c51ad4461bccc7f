"""login_failures: failed logins counted per account-and-address and per address (auth.throttle)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safesphere.core.db

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", safesphere.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_login_failures")),
    )
    op.create_index(op.f("ix_login_failures_updated_at"), "login_failures", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_login_failures_updated_at"), table_name="login_failures")
    op.drop_table("login_failures")
