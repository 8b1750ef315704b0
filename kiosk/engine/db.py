"""Opening the database: engine creation, SQLite pragmas and file mode, Alembic migrations,
the server key (kept outside the database: kiosk.engine.keys)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url

from kiosk.engine.schema import metadata
from kiosk.engine.secret_files import create_private

if TYPE_CHECKING:
    from alembic.config import Config

    from kiosk.engine.config import Secrets

log = logging.getLogger("kiosk.engine.db")

# the newest migration; tests/engine/test_migrations.py checks it is Alembic's head
HEAD_REVISION = "0006"

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    # WAL lets readers (the demo outbox panel, reports) run beside a writer
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


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


def server_key(engine: Engine, cfg: Secrets | None = None) -> bytes:
    """The key for code hashes, decoys and sealed secrets, from outside the database (a key
    file or KIOSK_SECRET_KEY); moves an older version's key out and seals what it left in
    plaintext (kiosk.engine.keys)."""
    from kiosk.engine.config import Secrets
    from kiosk.engine.keys import key_source, open_server_key

    return open_server_key(engine, key_source(cfg or Secrets(), engine.url))
