"""sealed authenticator secrets, the server key outside the database

Marks the format: from this revision on, `methods.value` of kind "authenticator" and a flow's
pending "enroll_secret" are sealed ("v1:" + AES-GCM, kiosk.engine.sealing) and the server key
lives in a key file or KIOSK_SECRET_KEY, not in `settings`. A version that does not know this
revision refuses to open the database instead of reading sealed values as secrets.

The data steps need the key, which a migration never sees: the engine does them at start
(kiosk.engine.keys.open_server_key), idempotently: it moves `settings.server_key` to the key
file, deletes it, and seals the plaintext secrets.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # no schema change: see above


def downgrade() -> None:
    pass  # a downgraded version cannot open sealed secrets: restore a backup instead
