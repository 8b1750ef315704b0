"""The Alembic migrations build exactly the schema the code uses, and run twice harmlessly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kiosk.engine.db import create_db_engine, migrate
from kiosk.engine.schema import metadata


def test_migrations_match_the_schema(tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(db)
    migrate(db)  # idempotent: a second start changes nothing
    with db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    with db.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
