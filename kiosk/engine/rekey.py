"""Rotating the server key (`kiosk admin keys rotate`).

A rotation re-keys, in one transaction, what can be re-keyed: every authenticator secret and
every pending enrolment is opened with the old key and sealed with the new one. What cannot be
re-keyed: codes already sent (only their keyed hash is kept) are expired, so a visitor asks for
a new one instead of being counted wrong; the throttle's memory of "the same wrong code" starts
afresh; and decoys (names that are no usable account) are drawn from the key, so a decoy looks
different after the rotation (other masked contacts and methods) while real accounts do not.

File order: the new key goes to `<key file>.new`, then the database is re-keyed (its fingerprint
with it), then the new file replaces the old. A rotation stopped between the last two steps is
finished by the next start (kiosk.engine.keys). Stop every instance before rotating and start
them afterwards: each reads the key once, at start.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, update

from kiosk.engine.config import PolicyError
from kiosk.engine.keys import (
    CHECK,
    NEW_KEY_ENV,
    KeySource,
    encode_key,
    fingerprint,
    new_key,
    parse_key,
    pending_path,
)
from kiosk.engine.registry import AUTHENTICATOR, PENDING
from kiosk.engine.schema import challenges, flows, methods, settings
from kiosk.engine.sealed_rows import authenticator_rows, pending_enrolments
from kiosk.engine.sealing import SealError, is_sealed, method_context, pending_context, seal, unseal
from kiosk.engine.secret_files import write_private


@dataclass(frozen=True)
class Rotation:
    secrets: int  # authenticator secrets re-keyed
    pending: int  # enrolments in progress re-keyed
    dropped: int  # enrolments in progress that did not open (they start again)
    codes: int  # open codes expired
    fingerprint: str  # of the new key


def rekey(db: Engine, old: bytes, new: bytes, now: datetime) -> Rotation:
    """The database part of a rotation, in one transaction; nothing changes if a registered
    secret does not open with `old`."""
    with db.begin() as conn:
        secrets = 0
        for row_id, user_id, value in authenticator_rows(conn):
            context = method_context(user_id, AUTHENTICATOR)
            try:
                plain = unseal(old, value, context) if is_sealed(value) else value
            except SealError:
                raise PolicyError([f"the authenticator secret of user id {user_id} does not "
                                   "open with the current key; nothing was changed"]) from None
            conn.execute(update(methods).where(methods.c.id == row_id)
                         .values(value=seal(new, plain, context)))
            secrets += 1
        pending = dropped = 0
        for flow_id, data in pending_enrolments(conn):
            context = pending_context(flow_id)
            value = str(data[PENDING])
            try:
                data[PENDING] = seal(new, unseal(old, value, context) if is_sealed(value)
                                     else value, context)
                pending += 1
            except SealError:
                del data[PENDING]
                dropped += 1
            conn.execute(update(flows).where(flows.c.id == flow_id).values(data=data))
        codes = conn.execute(update(challenges).where(
            challenges.c.used_at.is_(None), challenges.c.superseded.is_(False),
            challenges.c.expires_at > now).values(expires_at=now)).rowcount
        conn.execute(update(settings).where(settings.c.key == CHECK)
                     .values(value=fingerprint(new)))
    return Rotation(secrets, pending, dropped, codes, fingerprint(new))


def rotate(db: Engine, source: KeySource, old: bytes, now: datetime) -> Rotation:
    """Replace the server key: a new key file, or the key in KIOSK_NEW_SECRET_KEY when the
    key comes from the environment (then every instance gets it as KIOSK_SECRET_KEY)."""
    if source.kind == "memory":
        raise PolicyError(["an in-memory database has no key to rotate"])
    if source.kind == "env":
        given = os.environ.get(NEW_KEY_ENV)
        if not given:
            raise PolicyError([f"{NEW_KEY_ENV}: the key comes from KIOSK_SECRET_KEY, so the new "
                               f"one is given in {NEW_KEY_ENV} (`kiosk admin keys generate` "
                               "prints one)"])
        new = parse_key(given, NEW_KEY_ENV)
        if new == old:
            raise PolicyError([f"{NEW_KEY_ENV}: this is the current key"])
        return rekey(db, old, new, now)
    assert source.path is not None
    new = new_key()
    staged = pending_path(source.path)
    write_private(staged, (encode_key(new) + "\n").encode(), replace=True)
    try:
        done = rekey(db, old, new, now)
    except BaseException:
        with contextlib.suppress(OSError):
            staged.unlink()
        raise
    install(staged, source.path)
    return done


def install(staged: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """The new key file takes the old one's place (atomic)."""
    os.replace(staged, path)
