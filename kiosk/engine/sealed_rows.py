"""The rows that hold sealed secrets (authenticator secrets, registered and being enrolled):
reading them, and sealing those an older version stored in plaintext (at every start, by
kiosk.engine.keys; a rotation re-keys the same rows: kiosk.engine.rekey)."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from kiosk.engine.registry import AUTHENTICATOR, PENDING
from kiosk.engine.schema import flows, methods
from kiosk.engine.sealing import is_sealed, method_context, pending_context, seal


def authenticator_rows(conn: Connection) -> list[tuple[int, int, str]]:
    """(method row id, user id, stored value) of every registered authenticator."""
    return [tuple(r) for r in conn.execute(
        select(methods.c.id, methods.c.user_id, methods.c.value)
        .where(methods.c.kind == AUTHENTICATOR))]


def pending_enrolments(conn: Connection) -> list[tuple[str, dict[str, object]]]:
    """(flow id, flow data) of every open flow with an authenticator being enrolled."""
    return [(r.id, dict(r.data)) for r in conn.execute(
        select(flows.c.id, flows.c.data).where(flows.c.status == "open"))
        if isinstance(r.data, dict) and isinstance(r.data.get(PENDING), str)]


def seal_plaintext(conn: Connection, key: bytes) -> int:
    """Seal authenticator secrets (registered and pending) stored in plaintext; how many were
    sealed. Sealed ones are left alone."""
    count = 0
    for row_id, user_id, value in authenticator_rows(conn):
        if not is_sealed(value):
            sealed = seal(key, value, method_context(user_id, AUTHENTICATOR))
            conn.execute(update(methods).where(methods.c.id == row_id).values(value=sealed))
            count += 1
    for flow_id, data in pending_enrolments(conn):
        value = str(data[PENDING])
        if not is_sealed(value):
            data[PENDING] = seal(key, value, pending_context(flow_id))
            conn.execute(update(flows).where(flows.c.id == flow_id).values(data=data))
            count += 1
    return count
