"""Opening the engine for a server process: policy, database, migrations, demo seeding.

Several instances may start at once on one PostgreSQL database: migrations and demo seeding
then run under a PostgreSQL advisory lock, so exactly one instance does them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from kiosk.engine.config import Policy, load_policy
from kiosk.engine.db import create_db_engine, startup_lock
from kiosk.engine.engine import Engine
from kiosk.engine.schema import users
from kiosk.engine.secret_files import write_secret_file

__all__ = ["open_engine", "read_secret_file", "server_policy", "startup_lock",
           "write_secret_file"]


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
