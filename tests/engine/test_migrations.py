"""The Alembic migrations build exactly the schema the code uses; a new SQLite file made from
the table definitions (the fast start) ends up the same; both run twice harmlessly."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from kiosk.engine.db import HEAD_REVISION, alembic_config, create_db_engine, migrate
from kiosk.engine.schema import metadata


def schema_diff(db: Engine) -> list[object]:
    with db.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def revision(db: Engine) -> str:
    with db.connect() as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar())


def test_head_revision_constant_is_alembics_head() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_migrations_match_the_schema(tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path / 'm.db'}")
    cfg = alembic_config()
    with db.begin() as conn:  # every migration, one after the other
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert schema_diff(db) == [] and revision(db) == HEAD_REVISION
    migrate(db)  # idempotent: a second start changes nothing
    assert schema_diff(db) == []


def test_a_new_file_made_from_the_tables_equals_the_migrated_one(tmp_path: Path) -> None:
    fast = create_db_engine(f"sqlite:///{tmp_path / 'fast.db'}")
    migrate(fast)
    assert schema_diff(fast) == [] and revision(fast) == HEAD_REVISION
    slow = create_db_engine(f"sqlite:///{tmp_path / 'slow.db'}")
    cfg = alembic_config()
    with slow.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    for name in metadata.tables:
        fast_ix = {ix["name"] for ix in inspect(fast).get_indexes(name)}
        slow_ix = {ix["name"] for ix in inspect(slow).get_indexes(name)}
        assert fast_ix == slow_ix, name
    with fast.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_an_older_database_is_upgraded(tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = alembic_config()
    with db.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    migrate(db)
    assert revision(db) == HEAD_REVISION and schema_diff(db) == []
