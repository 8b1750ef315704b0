"""Throttling, kept in the database so it holds across threads, processes and instances.

Keyed on the account (its stable id; an unknown name by the name itself) and on the terminal,
never on an IP address alone: kiosks share one.

Counting and deciding is one atomic step. Every counting transaction first writes the lock row
of each subject it counts (in a fixed order, so two transactions never wait on each other in a
circle): on PostgreSQL that row lock serialises them across instances, on SQLite the write
takes the database's one write lock. A verification *reserves* its attempt (a pending event
that already counts as a failure) before the expensive check, and settles it afterwards: a
success removes it, a failure keeps it. So whatever the concurrency, no more attempts are
ever evaluated than the limit allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kiosk.engine.config import Throttle
from kiosk.engine.db import inserted_id
from kiosk.engine.schema import blocks, throttle_events, throttle_locks

VERIFY_FAIL = "verify_fail"
VERIFY_PENDING = "verify_pending"  # reserved, being checked: counts as a failure until settled
FLOW_FAIL = "flow_fail"
SEND = "send"


def account_subject(account_id: int) -> str:
    return f"account:{account_id}"


def user_subject(username: str) -> str:
    """A name nobody has: throttled like an account, under the (normalised) name."""
    return f"user:{username}"


def terminal_subject(terminal: str) -> str:
    return f"terminal:{terminal}"


@dataclass(frozen=True)
class ActiveBlock:
    subject: str
    reason: str
    support_code: str
    until: datetime


@dataclass(frozen=True)
class Reservation:
    """An attempt reserved before the check: the ids of its pending events."""

    method: str
    event_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Delay:
    """The terminal must wait this long before its next attempt (many recent failures)."""

    seconds: int


@dataclass(frozen=True)
class Busy:
    """No attempt is left while others are still being checked: they decide whether the
    limit is reached (and a block follows) or not (and trying again works)."""


class Throttler:
    def __init__(self, cfg: Throttle) -> None:
        self.cfg = cfg

    # ------------------------------------------------------------ primitives
    def lock(self, conn: Connection, *subjects: str) -> None:
        """Serialise every counting transaction on these subjects (see the module doc)."""
        stmt_for = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        for subject in sorted(set(subjects)):
            stmt = stmt_for(throttle_locks).values(subject=subject, touched=1)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=[throttle_locks.c.subject],
                set_={"touched": throttle_locks.c.touched + 1}))

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

    def _count(self, conn: Connection, subject: str, kinds: tuple[str, ...], since: datetime,
               method: str | None = None) -> int:
        query = (
            select(func.count())
            .select_from(throttle_events)
            .where(
                throttle_events.c.subject == subject,
                throttle_events.c.kind.in_(kinds),
                throttle_events.c.at > since,
            )
        )
        if method is not None:
            query = query.where(throttle_events.c.method == method)
        return int(conn.execute(query).scalar_one())

    def _add(self, conn: Connection, now: datetime, subject: str, kind: str, method: str = "",
             entry_hash: str = "") -> int:
        result = conn.execute(
            insert(throttle_events).values(
                subject=subject, kind=kind, method=method, entry_hash=entry_hash, at=now
            )
        )
        return inserted_id(result)

    def _over_limit(self, conn: Connection, now: datetime, subjects: tuple[str, str],
                    kinds: tuple[str, ...], since: datetime, support_code: str, reason: str,
                    limits: tuple[int, int], method: str | None = None) -> ActiveBlock | None:
        """Block the user (`reason`), else the terminal (terminal_`reason`), when its count of
        `kinds` since `since` reached its limit; `method` narrows the user's count only."""
        user, term = subjects
        if self._count(conn, user, kinds, since, method) >= limits[0]:
            return self._block(conn, now, user, reason, support_code,
                               timedelta(hours=self.cfg.block_hours))
        if self._count(conn, term, kinds, since) >= limits[1]:
            return self._block(conn, now, term, f"terminal_{reason}", support_code,
                               timedelta(minutes=self.cfg.terminal_block_minutes))
        return None

    def _block(self, conn: Connection, now: datetime, subject: str, reason: str,
               support_code: str, duration: timedelta) -> ActiveBlock:
        until = now + duration
        conn.execute(
            insert(blocks).values(
                subject=subject, reason=reason, support_code=support_code, created_at=now,
                until=until,
            )
        )
        return ActiveBlock(subject, reason, support_code, until)

    # ------------------------------------------------------------ verifications
    def reserve(self, conn: Connection, now: datetime, user: str, terminal: str, method: str,
                support_code: str) -> Reservation | ActiveBlock | Delay | Busy:
        """Reserve one attempt before checking it, or say why none is left: a block, a
        `Delay` the terminal must wait out first, or `Busy` when attempts still being checked
        fill the rest of the limit."""
        term = terminal_subject(terminal)
        self.lock(conn, user, term)
        block = self.active_block(conn, now, user, term)
        if block is not None:
            return block
        window = now - timedelta(minutes=self.cfg.verify_window_minutes)
        wait = self.terminal_wait(conn, now, terminal)
        if wait > 0:
            return Delay(wait)
        counted = (VERIFY_FAIL, VERIFY_PENDING)
        if (self._count(conn, user, counted, window, method) >= self.cfg.verify_failures
                or self._count(conn, term, counted, window)
                >= self.cfg.terminal_verify_failures):
            return Busy()
        return Reservation(method, [self._add(conn, now, user, VERIFY_PENDING, method),
                                    self._add(conn, now, term, VERIFY_PENDING, method)])

    def terminal_wait(self, conn: Connection, now: datetime, terminal: str) -> int:
        """Seconds the terminal must still wait: one visitor trying many names slows the
        kiosk down step by step before the hard block locks it for everyone."""
        term = terminal_subject(terminal)
        window = now - timedelta(minutes=self.cfg.verify_window_minutes)
        failures, last = conn.execute(
            select(func.count(), func.max(throttle_events.c.at)).where(
                throttle_events.c.subject == term, throttle_events.c.kind == VERIFY_FAIL,
                throttle_events.c.at > window)).one()
        past = int(failures) - self.cfg.terminal_delay_after
        if past < 0 or last is None:
            return 0
        if last.tzinfo is None:  # SQLite keeps no zone (schema.UtcDateTime adds it on rows)
            last = last.replace(tzinfo=now.tzinfo)
        wait = min(self.cfg.terminal_delay_max_seconds,
                   self.cfg.terminal_delay_seconds * 2 ** min(past, 20))
        return max(0, math.ceil(wait - (now - last).total_seconds()))

    def release(self, conn: Connection, reservation: Reservation) -> None:
        """The attempt succeeded (or was never evaluated): it does not count."""
        if reservation.event_ids:
            conn.execute(delete(throttle_events).where(
                throttle_events.c.id.in_(reservation.event_ids),
                throttle_events.c.kind == VERIFY_PENDING))

    def settle_failure(self, conn: Connection, now: datetime, user: str, terminal: str,
                       reservation: Reservation, entry_hash: str,
                       support_code: str) -> ActiveBlock | None:
        """The attempt failed: it counts, unless the same wrong entry was counted in this window
        already. Returns a block when this failure reached a limit (one block per limit: an
        active block is not written again)."""
        term = terminal_subject(terminal)
        method = reservation.method
        self.lock(conn, user, term)
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
            self.release(conn, reservation)
            return None
        conn.execute(update(throttle_events).where(
            throttle_events.c.id.in_(reservation.event_ids)
        ).values(kind=VERIFY_FAIL, entry_hash=entry_hash))
        if self.active_block(conn, now, user, term) is not None:
            return None
        counted = (VERIFY_FAIL, VERIFY_PENDING)
        return self._over_limit(conn, now, (user, term), counted, window, support_code,
                                "verify_failures",
                                (self.cfg.verify_failures, self.cfg.terminal_verify_failures),
                                method)

    def remaining(self, conn: Connection, now: datetime, user: str, terminal: str,
                  method: str) -> int:
        """Attempts left before a block, as the counters stand (pending ones count): the
        fewer of the user's for this method and the terminal's. A decoy has the same
        counters, so it reports the same numbers for the same failures."""
        window = now - timedelta(minutes=self.cfg.verify_window_minutes)
        counted = (VERIFY_FAIL, VERIFY_PENDING)
        left_user = self.cfg.verify_failures - self._count(conn, user, counted, window, method)
        left_term = self.cfg.terminal_verify_failures - self._count(
            conn, terminal_subject(terminal), counted, window)
        return max(0, min(left_user, left_term))

    # ------------------------------------------------------------ flows and sends
    def record_failed_flow(self, conn: Connection, now: datetime, user: str, terminal: str,
                           support_code: str) -> ActiveBlock | None:
        term = terminal_subject(terminal)
        self.lock(conn, user, term)
        window = now - timedelta(hours=self.cfg.failed_flows_window_hours)
        self._add(conn, now, user, FLOW_FAIL)
        self._add(conn, now, term, FLOW_FAIL)
        if self.active_block(conn, now, user, term) is not None:
            return None
        return self._over_limit(conn, now, (user, term), (FLOW_FAIL,), window, support_code,
                                "failed_flows",
                                (self.cfg.failed_flows, self.cfg.terminal_failed_flows))

    def reserve_send(self, conn: Connection, now: datetime, user: str, terminal: str,
                     method: str, support_code: str) -> ActiveBlock | None:
        """Count one code about to be sent, or block when the limit's worth went out already
        (a new block is returned with `created` semantics: the caller audits and alerts)."""
        term = terminal_subject(terminal)
        self.lock(conn, user, term)
        window = now - timedelta(minutes=self.cfg.sends_window_minutes)
        block = self._over_limit(conn, now, (user, term), (SEND,), window, support_code,
                                 "too_many_codes", (self.cfg.sends, self.cfg.terminal_sends))
        if block is not None:
            return block
        self._add(conn, now, user, SEND, method)
        self._add(conn, now, term, SEND, method)
        return None

    def clear_user(self, conn: Connection, *subjects: str) -> None:
        """A successful reset clears the user's counters (the terminal's stay)."""
        conn.execute(delete(throttle_events).where(throttle_events.c.subject.in_(subjects)))

    def lift(self, conn: Connection, now: datetime, *subjects: str) -> int:
        """Operator action: end a block now."""
        result = conn.execute(
            blocks.update()
            .where(blocks.c.subject.in_(subjects), blocks.c.until > now)
            .values(until=now)
        )
        return result.rowcount or 0


@dataclass(frozen=True)
class TerminalState:
    """A terminal the throttle is slowing down or blocking now (for the operator)."""

    terminal: str
    failures: int  # failed verifications in the window
    wait_seconds: int  # before its next attempt (0: none)
    blocked_until: datetime | None
    reason: str


def terminal_states(throttler: Throttler, conn: Connection, now: datetime) -> list[TerminalState]:
    """Every terminal with recent failures past the free ones, or a block, worst first."""
    cfg = throttler.cfg
    window = now - timedelta(minutes=cfg.verify_window_minutes)
    failures: dict[str, int] = dict(conn.execute(
        select(throttle_events.c.subject, func.count()).where(
            throttle_events.c.subject.like("terminal:%"), throttle_events.c.kind == VERIFY_FAIL,
            throttle_events.c.at > window).group_by(throttle_events.c.subject)).all())
    blocked = {row.subject: row for row in conn.execute(select(blocks).where(
        blocks.c.subject.like("terminal:%"), blocks.c.until > now).order_by(blocks.c.until))}
    states = []
    for subject in sorted(set(failures) | set(blocked)):
        terminal = subject.removeprefix("terminal:")
        count = int(failures.get(subject, 0))
        block = blocked.get(subject)
        if block is None and count < cfg.terminal_delay_after:
            continue
        states.append(TerminalState(terminal, count, throttler.terminal_wait(conn, now, terminal),
                                    block.until if block else None,
                                    block.reason if block else "slowed down"))
    return sorted(states, key=lambda s: (s.blocked_until is None, -s.failures))


def lift_terminal(throttler: Throttler, conn: Connection, now: datetime, terminal: str) -> int:
    """Operator action: end the terminal's blocks and forget its failures (so its waits end
    too). Returns how many blocks were lifted."""
    subject = terminal_subject(terminal)
    lifted = throttler.lift(conn, now, subject)
    conn.execute(delete(throttle_events).where(
        throttle_events.c.subject == subject,
        throttle_events.c.kind.in_((VERIFY_FAIL, FLOW_FAIL))))
    return lifted


def subjects_of(account_id: int | None, username: str) -> list[str]:
    """Every per-user subject a person may be counted under: the account, and the name as
    typed before the account existed (or for a name nobody has)."""
    subjects = [user_subject(username)]
    if account_id is not None:
        subjects.insert(0, account_subject(account_id))
    return subjects


def per_user_blocks(conn: Connection, now: datetime) -> dict[str, Any]:
    """Active per-user blocks by user name (the newest `until` wins); accounts by their
    current name, names nobody has as typed."""
    from kiosk.engine.schema import users  # the one place throttling reads the user table

    names = dict(conn.execute(select(users.c.id, users.c.username)).all())
    newest: dict[str, Any] = {}
    for row in conn.execute(select(blocks).where(
            or_(blocks.c.subject.like("user:%"), blocks.c.subject.like("account:%")),
            blocks.c.until > now).order_by(blocks.c.until)):
        kind, _, key = row.subject.partition(":")
        name = names.get(int(key)) if kind == "account" and key.isdigit() else key
        if name is not None:
            newest[name] = row
    return newest
