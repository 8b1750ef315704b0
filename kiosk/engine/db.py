"""Opening the database: engine creation, SQLite pragmas and file mode, Alembic migrations.
The server key is kept outside the database (kiosk.engine.keys.server_key)."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
import threading
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


class WriterQueue:
    """SQLite takes one writer at a time; a connection that finds the file locked sleeps in
    SQLite's busy handler (up to 100 ms a try) while newcomers overtake it: 50 kiosks starting
    at once waited up to 2.3 s for 5 ms transactions (bench/api.py's cold start). Here the
    threads of one process queue on a lock instead, taken where SQLite takes its write lock
    (the first INSERT, UPDATE or DELETE of a transaction) and given back at its end, and each
    goes the moment the one before commits. Reads never queue, nor does a transaction's
    directory lookup before its first write. Another process on the same file still meets the
    busy handler. Re-entrant: a thread with two connections writing waits for neither.

    A writer waits at most WAIT seconds (SQLite's busy timeout), then goes on to SQLite as
    before for the rest of its transaction: a lock never given back (a connection lost without
    commit or rollback) costs each transaction that wait once, never a hang."""

    WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
    KEY = "kiosk.writer"  # in conn.info: HELD, or SKIPPED after a wait that ran out
    HELD, SKIPPED = "held", "skipped"
    WAIT = 5.0

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.RLock()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)
        # the last resort: a connection back in the pool without commit or rollback
        event.listen(engine.pool, "reset", self._reset)

    def _before(self, conn: Connection, _cursor: object, statement: str, *_: object) -> None:
        if self.KEY in conn.info or not statement.lstrip()[:7].upper().startswith(self.WRITES):
            return
        if self._lock.acquire(timeout=self.WAIT):
            conn.info[self.KEY] = self.HELD
        else:
            conn.info[self.KEY] = self.SKIPPED  # this transaction does not wait again
            log.warning("SQLite writer queue: waited %.0f s; writing without it", self.WAIT)

    # SQLAlchemy tells of a commit before making it: the next writer let in then would find
    # the file still locked and sleep. So the transaction ends here, then the queue moves; the
    # commit SQLAlchemy makes next finds nothing left to do (or, if this one failed, fails
    # again and reports it as for any other statement)
    def _commit(self, conn: Connection) -> None:
        self._end(conn, "commit")

    def _rollback(self, conn: Connection) -> None:
        self._end(conn, "rollback")

    def _end(self, conn: Connection, how: str) -> None:
        if conn.info.pop(self.KEY, None) != self.HELD:
            return
        try:
            getattr(conn.connection.dbapi_connection, how)()
        except sqlite3.Error:
            pass
        finally:
            self._release()

    def _reset(self, dbapi_connection: object, connection_record: Any,
               reset_state: object) -> None:
        if connection_record.info.pop(self.KEY, None) == self.HELD:
            self._release()

    def _release(self) -> None:
        try:
            self._lock.release()
        except RuntimeError:  # returned to the pool by another thread (garbage collection)
            log.warning("SQLite writer queue: released by another thread; others wait it out")


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
        WriterQueue(engine)
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
