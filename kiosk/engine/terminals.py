"""API keys of the kiosk terminals that use the HTTP API (backend_stub), over the `terminals` table.

A key looks like `hk_<key id>_<secret>`. It is shown once, when created; only its SHA-256 is
stored (the secret is 256 random bits, so a fast hash is enough: nothing to brute-force). The key
id is the terminal's identity in audit events and throttle keys: `api:<key id>`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, insert, select, update

from kiosk.engine.clock import Clock, SystemClock
from kiosk.engine.schema import terminals
from kiosk.engine.text import has_control_chars

PREFIX = "hk_"
KEY_RE = re.compile(r"^hk_([a-z2-7]{10})_([A-Za-z0-9_-]{43})$")
MAX_NAME = 100
# a hash nothing hashes to: unknown key ids still cost one hash and one comparison
_DUMMY_HASH = "0" * 64


class TerminalError(ValueError):
    """A terminal name or key id an operator typed is not acceptable."""


@dataclass(frozen=True)
class Terminal:
    id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def identity(self) -> str:
        """The engine's terminal identity (audit, throttle keys)."""
        return f"api:{self.id}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _new_id() -> str:
    # 10 base32 characters = 50 bits: unique enough for ids, short enough to read in an audit
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def _terminal(row: Row[Any]) -> Terminal:
    m = row._mapping
    return Terminal(m["id"], m["name"], m["created_at"], m["revoked_at"])


class TerminalStore:
    """Create, verify, revoke and list terminal API keys."""

    def __init__(self, db: Engine, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    def create(self, name: str) -> tuple[Terminal, str]:
        """A new terminal and its key. The key is returned here and never again."""
        name = name.strip() if isinstance(name, str) else ""
        if not name or len(name) > MAX_NAME or has_control_chars(name):
            raise TerminalError(f"the terminal name must be 1-{MAX_NAME} printable characters")
        now = self.clock.now()
        with self.db.begin() as conn:
            taken = conn.execute(select(terminals.c.id).where(
                terminals.c.name == name, terminals.c.revoked_at.is_(None))).first()
            if taken is not None:
                raise TerminalError(f"an active terminal is already called {name!r} "
                                    f"(key id {taken.id}); revoke it first")
            key_id = _new_id()
            key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
            conn.execute(insert(terminals).values(
                id=key_id, name=name, key_hash=key_hash(key), created_at=now, revoked_at=None))
        return Terminal(key_id, name, now, None), key

    def verify(self, key: object) -> Terminal | None:
        """The active terminal this key belongs to, or None (malformed, unknown, revoked)."""
        if not isinstance(key, str) or len(key) > 200:
            return None
        match = KEY_RE.match(key)
        key_id = match.group(1) if match else ""
        with self.db.connect() as conn:
            row = conn.execute(select(terminals).where(terminals.c.id == key_id)).first() \
                if key_id else None
        stored = row.key_hash if row is not None else _DUMMY_HASH
        right = hmac.compare_digest(key_hash(key), stored)
        if row is None or not right or row.revoked_at is not None:
            return None
        return _terminal(row)

    def revoke(self, key_id: str) -> Terminal:
        """Revoke at once (every instance checks the database on each request)."""
        with self.db.begin() as conn:
            row = conn.execute(select(terminals).where(terminals.c.id == key_id)).first()
            if row is None:
                raise TerminalError(f"no terminal with key id {key_id!r}")
            if row.revoked_at is None:
                conn.execute(update(terminals).where(terminals.c.id == key_id)
                             .values(revoked_at=self.clock.now()))
            row = conn.execute(select(terminals).where(terminals.c.id == key_id)).one()
        return _terminal(row)

    def list(self, *, include_revoked: bool = True) -> list[Terminal]:
        query = select(terminals).order_by(terminals.c.created_at, terminals.c.id)
        if not include_revoked:
            query = query.where(terminals.c.revoked_at.is_(None))
        with self.db.connect() as conn:
            return [_terminal(r) for r in conn.execute(query)]
