"""An upgraded database as version 0004 left it: the server key in `settings`, authenticator
secrets (registered and pending) in plaintext, no language columns. Shared by the SQLite and
PostgreSQL tests."""

from __future__ import annotations

import os

from sqlalchemy import Engine as DbEngine
from sqlalchemy import delete, insert, select, text, update

from kiosk.engine.demo import BOB_TOTP_SECRET
from kiosk.engine.schema import flows, methods, settings, users


def make_it_old(db: DbEngine, pending_flow: str, pending_secret: str) -> bytes:
    """Turn a current database back into a 0004 one; the legacy key it now holds."""
    legacy = os.urandom(32)
    with db.begin() as conn:
        conn.execute(delete(settings).where(settings.c.key == "key_check"))
        conn.execute(insert(settings).values(key="server_key", value=legacy.hex()))
        bob = conn.execute(select(users.c.id).where(users.c.username == "bob")).scalar_one()
        conn.execute(update(methods).where(methods.c.user_id == bob,
                                           methods.c.kind == "authenticator")
                     .values(value=BOB_TOTP_SECRET))
        data = conn.execute(select(flows.c.data).where(flows.c.id == pending_flow)).scalar_one()
        conn.execute(update(flows).where(flows.c.id == pending_flow)
                     .values(data={**data, "enroll_secret": pending_secret}))
        # and without what later revisions added (0006: the flow's and the user's language;
        # 0007: the helpdesk's access passes)
        for table in ("flows", "users"):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN language"))
        conn.execute(text("DROP TABLE IF EXISTS access_passes"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    return legacy


def stored_state(db: DbEngine) -> tuple[dict[str, str], str, object]:
    """settings, bob's stored authenticator value, and the revision."""
    with db.connect() as conn:
        found = {str(k): str(v) for k, v in conn.execute(select(settings.c.key,
                                                                settings.c.value))}
        bob = conn.execute(select(methods.c.value).join(users, users.c.id == methods.c.user_id)
                           .where(users.c.username == "bob",
                                  methods.c.kind == "authenticator")).scalar_one()
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return found, bob, revision
