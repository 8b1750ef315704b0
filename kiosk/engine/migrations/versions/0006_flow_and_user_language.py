"""the visitor's language on the flow, the user's preferred language

`flows.language`: the language the visitor chose at the kiosk, so the codes and notices of the
flow are written in it. `users.language`: the language of the user's last completed flow or
registration, for messages sent outside a flow. Both nullable: rows from before this revision
use the organisation's default language.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.drop_column("language")
