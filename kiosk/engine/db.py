"""Opening the database: engine creation, SQLite pragmas and file mode, Alembic migrations.
The server key is kept outside the database (kiosk.engine.keys.server_key)."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, CursorResult, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection

from kiosk.engine.schema import metadata
from kiosk.engine.secret_files import create_private

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("kiosk.engine.db")

# the newest migration; tests/engine/test_migrations.py checks it is Alembic's head
HEAD_REVISION = "0007"

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers (the demo outbox panel, reports) run beside a writer
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the one row an INSERT added."""
    key = result.inserted_primary_key
    if key is None:
        raise ValueError("not the result of a single-row INSERT")
    return int(key[0])


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    name = parsed.database
    if not name or name == ":memory:" or name.startswith("file:") or "uri" in parsed.query:
        return None
    return Path(name)


def private_sqlite_file(url: str) -> None:
    """A new SQLite file is made 0600 whatever the umask (SQLite gives its -wal and -shm the
    same mode); an existing one others may read loses those bits (its group keeps its own)."""
    path = sqlite_path(url)
    if path is None or not path.parent.is_dir():
        return  # in memory, or SQLite reports the missing directory itself
    if create_private(path):
        return
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            info = file.stat()
            if info.st_mode & 0o007 and info.st_uid == os.geteuid():
                file.chmod(stat.S_IMODE(info.st_mode) & ~0o007)
                log.warning("%s could be read by every local user: no longer", file)
        except OSError:
            continue


def create_db_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        private_sqlite_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


# any fixed 64-bit number: "helpdesk kiosk schema"
_LOCK_ID = 0x6B696F736B5F6462


@contextlib.contextmanager
def startup_lock(db: Engine) -> Iterator[None]:
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
