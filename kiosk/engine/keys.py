"""The server key: the HMAC key of codes, decoys and "already tried" entries, and the root of
the key that seals authenticator secrets (kiosk.engine.sealing). It never enters the database.

Where it comes from, the first that applies:
1. the environment variable KIOSK_SECRET_KEY (hex, or base64, of at least 32 bytes);
2. the file `[secrets] key_file` (the same text; made, mode 0600, when missing);
3. beside a SQLite database file: kiosk.db -> kiosk.key (made on the first start).
A PostgreSQL database needs 1 or 2, the same on every instance. An in-memory SQLite database
gets a key that lives as long as the process.

The database holds only a fingerprint of the key (settings "key_check": an HMAC of a constant),
so an instance started with another key refuses to start instead of failing every code.

At every start (open_server_key), idempotently: a key an older version kept in the database
(settings "server_key") is moved to the key file and deleted; plaintext authenticator secrets
and pending enrolments are sealed; a SQLite file that held either is vacuumed, so no copy stays
in its free pages. Alembic never sees the key, so these steps cannot be a migration: 0005 only
marks the format. Rotation: kiosk.engine.rekey.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError

from kiosk.engine.config import PolicyError, Secrets
from kiosk.engine.crypto import keyed_hash, same
from kiosk.engine.db import sqlite_path
from kiosk.engine.schema import settings
from kiosk.engine.sealed_rows import seal_plaintext
from kiosk.engine.secret_files import exposure, write_private

log = logging.getLogger("kiosk.engine.keys")

KEY_ENV = "KIOSK_SECRET_KEY"
NEW_KEY_ENV = "KIOSK_NEW_SECRET_KEY"  # `kiosk admin keys rotate` when the key is in KEY_ENV
KEY_BYTES = 32
LEGACY = "server_key"  # where versions before 0005 kept the key
CHECK = "key_check"
_HEX = re.compile(r"[0-9a-fA-F]+")
_memory_keys: weakref.WeakKeyDictionary[Engine, bytes] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class KeySource:
    kind: Literal["env", "file", "memory"]
    path: Path | None = None

    @property
    def name(self) -> str:
        """The setting to name in a message."""
        return KEY_ENV if self.kind == "env" else "secrets.key_file"

    def describe(self) -> str:
        if self.kind == "env":
            return f"the environment variable {KEY_ENV}"
        if self.kind == "file":
            return f"the key file {self.path}"
        return "memory (an in-memory database: the key ends with the process)"


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return key.hex()


def parse_key(text: str, name: str) -> bytes:
    """A key given as hex or base64 (standard or URL-safe); never echoes the text."""
    text = text.strip()
    raw: bytes | None = None
    if _HEX.fullmatch(text) and len(text) % 2 == 0:
        raw = bytes.fromhex(text)
    else:
        padded = text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4)
        try:
            raw = base64.b64decode(padded, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) < KEY_BYTES:
        raise PolicyError([f"{name}: not a key: at least {KEY_BYTES} random bytes as hex "
                           f"({2 * KEY_BYTES} characters) or base64 are needed "
                           "(`kiosk admin keys generate` prints one)"])
    return raw


def fingerprint(key: bytes) -> str:
    """What the database keeps to recognise the key; shows which key an instance has."""
    return keyed_hash(key, "key-check")


def default_key_path(database: Path) -> Path:
    """kiosk.db -> kiosk.key: beside the database, not matched by `kiosk.db*`."""
    path = database.with_name(database.stem + ".key")
    return path if path != database else database.with_name(database.name + ".key")


def key_source(cfg: Secrets, url: str | URL) -> KeySource:
    if os.environ.get(KEY_ENV):
        return KeySource("env")
    if cfg.key_file:
        return KeySource("file", Path(cfg.key_file))
    if make_url(url).get_backend_name() != "sqlite":
        raise PolicyError(["secrets.key_file: needed with a PostgreSQL database (every "
                           f"instance reads the same key), unless {KEY_ENV} is set"])
    database = sqlite_path(url)
    return KeySource("file", default_key_path(database)) if database else KeySource("memory")


def pending_path(path: Path) -> Path:
    """Where a rotation puts the new key until the database is re-keyed."""
    return path.with_name(path.name + ".new")


def read_key_file(path: Path, name: str = "secrets.key_file") -> bytes | None:
    """The key in `path`; None when there is no file. Refused when others may read it."""
    if not path.exists():
        return None
    problem = exposure(path)
    if problem is not None:
        raise PolicyError([f"{name}: {problem}"])
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([f"{name}: cannot read {path} ({exc})"]) from None
    return parse_key(text, f"{name} ({path})")


def install_key_file(path: Path, key: bytes) -> bytes:
    """Write a new key file (0600); if another instance wrote one first, its key."""
    try:
        if write_private(path, (encode_key(key) + "\n").encode()):
            log.info("server key written to %s", path)
            return key
    except OSError as exc:
        raise PolicyError([f"secrets.key_file: cannot create {path} ({exc.strerror})"]) from None
    found = read_key_file(path)
    assert found is not None
    return found


def _stored(db: Engine) -> dict[str, str]:
    with db.begin() as conn:
        rows = conn.execute(select(settings.c.key, settings.c.value).where(
            settings.c.key.in_([LEGACY, CHECK])))
        return {str(name): str(value) for name, value in rows}


def _the_key(db: Engine, source: KeySource, stored: dict[str, str]) -> bytes:
    """The key from its source; a key from the database moves there, a missing one is made
    unless the database's secrets were sealed with another."""
    legacy = bytes.fromhex(stored[LEGACY]) if LEGACY in stored else None
    key: bytes | None
    if source.kind == "env":
        key = parse_key(os.environ.get(KEY_ENV, ""), KEY_ENV)
    elif source.kind == "memory":
        key = _memory_keys.get(db) or legacy
        if key is None and CHECK not in stored:
            key = new_key()
        if key is not None:
            _memory_keys[db] = key
    else:
        assert source.path is not None
        key = read_key_file(source.path)
        if key is None and (legacy is not None or CHECK not in stored):
            key = install_key_file(source.path, legacy or new_key())
    if key is None:
        raise PolicyError([f"{source.name}: no key in {source.describe()}, but this database's "
                           "secrets are sealed with one: restore the key file (or "
                           f"{KEY_ENV}) the other instances use"])
    check = stored.get(CHECK)
    if check is not None and not same(check, fingerprint(key)):
        return _finish_rotation(source, check) or _refuse(source, check, key)
    return key


def _finish_rotation(source: KeySource, check: str) -> bytes | None:
    """A rotation that re-keyed the database but stopped before replacing the key file."""
    if source.path is None:
        return None
    new_path = pending_path(source.path)
    key = read_key_file(new_path) if new_path.exists() else None
    if key is None or not same(check, fingerprint(key)):
        return None
    os.replace(new_path, source.path)
    log.warning("finished an interrupted key rotation: %s now holds the new key", source.path)
    return key


def _refuse(source: KeySource, check: str, key: bytes) -> NoReturn:
    raise PolicyError([f"{source.name}: the key from {source.describe()} (fingerprint "
                       f"{fingerprint(key)[:16]}) is not the key this database's secrets are "
                       f"sealed with (fingerprint {check[:16]}): every instance needs the "
                       "same key"])


def open_server_key(db: Engine, source: KeySource) -> bytes:
    """The server key, after the start-up steps above (idempotent; safe when several
    instances start at once)."""
    for _ in range(3):
        stored = _stored(db)
        key = _the_key(db, source, stored)
        if CHECK in stored and LEGACY not in stored:
            return key
        try:
            _upgrade(db, key, moved=LEGACY in stored, checked=CHECK in stored)
            return key
        except IntegrityError:  # another instance did it first: check its work
            continue
    raise RuntimeError("the server key could not be settled")


def _upgrade(db: Engine, key: bytes, *, moved: bool, checked: bool) -> None:
    with db.begin() as conn:
        sealed = seal_plaintext(conn, key)
        if moved:
            conn.execute(delete(settings).where(settings.c.key == LEGACY))
        if not checked:
            conn.execute(insert(settings).values(key=CHECK, value=fingerprint(key)))
    if sealed or moved:
        log.warning("secrets at rest: %d plaintext authenticator secret(s) sealed%s", sealed,
                    "; the database no longer holds the server key" if moved else "")
        if db.dialect.name == "sqlite":  # no copy in free pages or the WAL
            with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM")
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def server_key(db: Engine, cfg: Secrets | None = None) -> bytes:
    """The key for code hashes, decoys and sealed secrets, from outside the database (a key
    file or KIOSK_SECRET_KEY), after the start-up steps of open_server_key."""
    return open_server_key(db, key_source(cfg or Secrets(), db.url))
