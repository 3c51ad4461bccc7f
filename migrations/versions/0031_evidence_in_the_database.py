"""Evidence in the database: each evidence row says where its bytes are (directory or database), and the
pieces of the files kept in the database, which every instance reads

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | Sequence[str] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("store", sa.String(length=16), nullable=False, server_default="directory"))
    op.create_table(
        "evidence_chunks",
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("evidence_id", "number"),
    )


def downgrade() -> None:
    op.drop_table("evidence_chunks")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("store")
