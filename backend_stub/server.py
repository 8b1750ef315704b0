"""Opening the engine for a server process: policy, database, migrations, demo seeding.

Several instances may start at once on one PostgreSQL database: migrations and demo seeding
then run under a PostgreSQL advisory lock, so exactly one instance does them.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as DbEngine
from sqlalchemy import func, select, text

from kiosk.engine.config import Policy, load_policy
from kiosk.engine.db import create_db_engine
from kiosk.engine.engine import Engine
from kiosk.engine.schema import users
from kiosk.engine.secret_files import write_private

# any fixed 64-bit number: "helpdesk kiosk schema"
_LOCK_ID = 0x6B696F736B5F6462


@contextlib.contextmanager
def startup_lock(db: DbEngine) -> Iterator[None]:
    """Serialise start-up work between instances on PostgreSQL (SQLite needs none)."""
    if db.dialect.name != "postgresql":
        yield
        return
    with db.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _LOCK_ID})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _LOCK_ID})
            conn.commit()


def server_policy(policy_file: str | Path | None, database_url: str | None, demo: bool,
                  **overrides: Any) -> Policy:
    """The policy file (or the defaults), with the command line's database and demo mode.

    `demo` without a policy file uses the demo policy (Contoso, the demo users' SSPR group) and,
    without a database URL, a throwaway SQLite file."""
    data: dict[str, Any] = {}
    if demo:
        from kiosk.engine.demo import DEMO_POLICY

        data.update(DEMO_POLICY if policy_file is None else {"demo": True})
        if database_url is None:
            folder = tempfile.mkdtemp(prefix="kiosk-demo-")
            database_url = f"sqlite:///{Path(folder) / 'demo.db'}"
    if database_url is not None:
        data["database"] = {"url": database_url}
    data.update(overrides)
    return load_policy(policy_file, **data)


def open_engine(policy: Policy) -> Engine:
    """The engine, migrated; in demo mode the demo users are seeded into an empty database."""
    db = create_db_engine(policy.database.url)
    with startup_lock(db):
        engine = Engine(policy, db)
        if policy.demo:
            with db.connect() as conn:
                empty = conn.execute(select(func.count()).select_from(users)).scalar_one() == 0
            if empty:
                from kiosk.engine.demo import seed

                seed(engine)
    return engine


def read_secret_file(path: str | Path) -> str:
    value = Path(path).read_text(encoding="utf-8").strip()
    if not value:
        raise ValueError(f"{path} is empty")
    return value


def write_secret_file(path: str | Path, value: str) -> None:
    """Write a key readable by its owner only (0600 whatever the umask), whole or not at all;
    a file that was there is replaced."""
    write_private(Path(path), (value + "\n").encode("utf-8"), replace=True)
