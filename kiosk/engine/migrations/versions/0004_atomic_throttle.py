"""atomic throttle: lock rows per subject, the flow's throttle subject

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_locks",
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("touched", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
    )
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subject", sa.String(length=300), nullable=False, server_default=""))
    # flows started before this revision keep counting under the name they were typed with
    op.execute("UPDATE flows SET subject = 'user:' || username WHERE subject = ''")


def downgrade() -> None:
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.drop_column("subject")
    op.drop_table("throttle_locks")
