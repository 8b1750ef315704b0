"""Throttling, kept in the database so it holds across processes and instances.

Keyed on the user (by the name as typed, so unknown names are throttled like real ones) and
on the terminal, never on an IP address alone: kiosks share one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, func, insert, select

from kiosk.engine.config import Throttle
from kiosk.engine.schema import blocks, throttle_events

VERIFY_FAIL = "verify_fail"
FLOW_FAIL = "flow_fail"
SEND = "send"


def user_subject(username: str) -> str:
    return f"user:{username}"


def terminal_subject(terminal: str) -> str:
    return f"terminal:{terminal}"


@dataclass(frozen=True)
class ActiveBlock:
    subject: str
    reason: str
    support_code: str
    until: datetime


class Throttler:
    def __init__(self, cfg: Throttle) -> None:
        self.cfg = cfg

    def active_block(self, conn: Connection, now: datetime, *subjects: str) -> ActiveBlock | None:
        row = conn.execute(
            select(blocks)
            .where(and_(blocks.c.subject.in_(subjects), blocks.c.until > now))
            .order_by(blocks.c.until.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return ActiveBlock(row.subject, row.reason, row.support_code, row.until)

    def _count(
        self, conn: Connection, subject: str, kind: str, since: datetime, method: str | None = None
    ) -> int:
        query = (
            select(func.count())
            .select_from(throttle_events)
            .where(
                throttle_events.c.subject == subject,
                throttle_events.c.kind == kind,
                throttle_events.c.at > since,
            )
        )
        if method is not None:
            query = query.where(throttle_events.c.method == method)
        return int(conn.execute(query).scalar_one())

    def _add(
        self,
        conn: Connection,
        now: datetime,
        subject: str,
        kind: str,
        method: str = "",
        entry_hash: str = "",
    ) -> None:
        conn.execute(
            insert(throttle_events).values(
                subject=subject, kind=kind, method=method, entry_hash=entry_hash, at=now
            )
        )

    def _block(
        self,
        conn: Connection,
        now: datetime,
        subject: str,
        reason: str,
        support_code: str,
        duration: timedelta,
    ) -> ActiveBlock:
        until = now + duration
        conn.execute(
            insert(blocks).values(
                subject=subject,
                reason=reason,
                support_code=support_code,
                created_at=now,
                until=until,
            )
        )
        return ActiveBlock(subject, reason, support_code, until)

    def record_verify_failure(
        self,
        conn: Connection,
        now: datetime,
        username: str,
        terminal: str,
        method: str,
        entry_hash: str,
        support_code: str,
    ) -> ActiveBlock | None:
        """Count one failed verification; the same wrong entry again counts once. Returns a new
        block when this failure reached a limit."""
        user = user_subject(username)
        window = now - timedelta(minutes=self.cfg.verify_window_minutes)
        repeated = conn.execute(
            select(throttle_events.c.id)
            .where(
                throttle_events.c.subject == user,
                throttle_events.c.kind == VERIFY_FAIL,
                throttle_events.c.method == method,
                throttle_events.c.entry_hash == entry_hash,
                throttle_events.c.at > window,
            )
            .limit(1)
        ).first()
        if repeated is not None:
            return None
        term = terminal_subject(terminal)
        self._add(conn, now, user, VERIFY_FAIL, method, entry_hash)
        self._add(conn, now, term, VERIFY_FAIL, method, entry_hash)
        if self._count(conn, user, VERIFY_FAIL, window, method) >= self.cfg.verify_failures:
            return self._block(
                conn,
                now,
                user,
                "verify_failures",
                support_code,
                timedelta(hours=self.cfg.block_hours),
            )
        if self._count(conn, term, VERIFY_FAIL, window) >= self.cfg.terminal_verify_failures:
            return self._block(
                conn,
                now,
                term,
                "terminal_verify_failures",
                support_code,
                timedelta(minutes=self.cfg.terminal_block_minutes),
            )
        return None

    def record_failed_flow(
        self, conn: Connection, now: datetime, username: str, terminal: str, support_code: str
    ) -> ActiveBlock | None:
        user, term = user_subject(username), terminal_subject(terminal)
        window = now - timedelta(hours=self.cfg.failed_flows_window_hours)
        self._add(conn, now, user, FLOW_FAIL)
        self._add(conn, now, term, FLOW_FAIL)
        if self._count(conn, user, FLOW_FAIL, window) >= self.cfg.failed_flows:
            return self._block(
                conn, now, user, "failed_flows", support_code, timedelta(hours=self.cfg.block_hours)
            )
        if self._count(conn, term, FLOW_FAIL, window) >= self.cfg.terminal_failed_flows:
            return self._block(
                conn,
                now,
                term,
                "terminal_failed_flows",
                support_code,
                timedelta(minutes=self.cfg.terminal_block_minutes),
            )
        return None

    def check_send(self, conn: Connection, now: datetime, username: str, terminal: str,
                   support_code: str) -> ActiveBlock | None:
        """Before a send: the limit's worth of codes went out already → block now."""
        user, term = user_subject(username), terminal_subject(terminal)
        window = now - timedelta(minutes=self.cfg.sends_window_minutes)
        if self._count(conn, user, SEND, window) >= self.cfg.sends:
            return self._block(conn, now, user, "too_many_codes", support_code,
                               timedelta(hours=self.cfg.block_hours))
        if self._count(conn, term, SEND, window) >= self.cfg.terminal_sends:
            return self._block(conn, now, term, "terminal_too_many_codes", support_code,
                               timedelta(minutes=self.cfg.terminal_block_minutes))
        return None

    def record_send(self, conn: Connection, now: datetime, username: str, terminal: str,
                    method: str) -> None:
        self._add(conn, now, user_subject(username), SEND, method)
        self._add(conn, now, terminal_subject(terminal), SEND, method)

    def clear_user(self, conn: Connection, username: str) -> None:
        """A successful reset clears the user's counters (the terminal's stay)."""
        conn.execute(
            delete(throttle_events).where(throttle_events.c.subject == user_subject(username))
        )

    def lift(self, conn: Connection, now: datetime, subject: str) -> int:
        """Operator action: end a block now."""
        result = conn.execute(
            blocks.update()
            .where(blocks.c.subject == subject, blocks.c.until > now)
            .values(until=now)
        )
        return result.rowcount or 0
