"""Opening the database: engine creation, SQLite pragmas, Alembic migrations, server secret."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from kiosk.engine.schema import metadata, settings

if TYPE_CHECKING:
    from alembic.config import Config

# the newest migration; tests/engine/test_migrations.py checks it is Alembic's head
HEAD_REVISION = "0004"

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    # WAL lets readers (the demo outbox panel, reports) run beside a writer
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def create_db_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent).

    A brand-new SQLite file gets the schema straight from the table definitions and is stamped
    at the head revision: the same result as running every migration (a test compares them),
    without importing Alembic, which is a third of `kiosk demo`'s start-up."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            if not inspect(conn).get_table_names():
                metadata.create_all(conn)
                conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) "
                                  "NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY "
                                  "(version_num))"))
                conn.execute(text("INSERT INTO alembic_version VALUES (:v)"),
                             {"v": HEAD_REVISION})
                return
            if _current_revision(conn) == HEAD_REVISION:
                return
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _current_revision(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def server_key(engine: Engine) -> bytes:
    """The key for code hashes and decoys: made once, kept in the DB so every instance shares it."""
    with engine.begin() as conn:
        row = conn.execute(select(settings.c.value).where(settings.c.key == "server_key")).first()
        if row is not None:
            return bytes.fromhex(row[0])
    key = secrets.token_bytes(32)
    try:
        with engine.begin() as conn:
            conn.execute(insert(settings).values(key="server_key", value=key.hex()))
        return key
    except IntegrityError:  # another instance made it first
        with engine.begin() as conn:
            value = conn.execute(
                select(settings.c.value).where(settings.c.key == "server_key")
            ).scalar_one()
        return bytes.fromhex(value)
