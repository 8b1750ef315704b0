"""The live board: every visit going on now, each terminal's throttle counters and how close
it is to a block, and the users blocked now.

Where live sessions come from: the flows table. A visit is live while its flow is open and
not expired; its last activity is its newest audit event (every engine call that changes a
flow writes one). So kiosks, SSH sessions and API terminals on the same database all show,
across processes and instances, with no registry of its own to keep. A visitor still on the
welcome screen (no flow yet) does not show: nothing about them is known yet.

No names or values: a session shows its support code, terminal, purpose and step; the agent
opens the case (kiosk.engine.cases) to see who it is. One snapshot is six small queries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from kiosk.desk import Board, Session, TerminalLoad, UserBlock
from kiosk.engine.schema import audit_events, blocks, flows, throttle_events
from kiosk.engine.throttle import (
    FLOW_FAIL,
    SEND,
    VERIFY_FAIL,
    VERIFY_PENDING,
    Throttler,
    per_user_blocks,
)

MAX_SESSIONS = 200


def sessions(conn: Connection, now: datetime) -> list[Session]:
    rows = conn.execute(select(flows.c.correlation_id, flows.c.support_code, flows.c.terminal,
                               flows.c.purpose, flows.c.step, flows.c.created_at)
                        .where(flows.c.status == "open", flows.c.expires_at > now)
                        .order_by(flows.c.created_at.desc()).limit(MAX_SESSIONS)).all()
    last = dict(conn.execute(
        select(audit_events.c.correlation_id, func.max(audit_events.c.at))
        .where(audit_events.c.correlation_id.in_([r.correlation_id for r in rows]))
        .group_by(audit_events.c.correlation_id)).all()) if rows else {}
    out = []
    for row in rows:
        seen = last.get(row.correlation_id) or row.created_at
        seen = seen if seen.tzinfo else seen.replace(tzinfo=now.tzinfo)  # SQLite's max()
        out.append(Session(support_code=row.support_code, terminal=row.terminal,
                           purpose=row.purpose, step=row.step, started_at=row.created_at,
                           last_activity=seen,
                           idle_seconds=max(0, int((now - seen).total_seconds()))))
    return sorted(out, key=lambda s: s.idle_seconds)


def _counts(conn: Connection, kinds: tuple[str, ...], since: datetime) -> dict[str, int]:
    return {subject.removeprefix("terminal:"): int(n) for subject, n in conn.execute(
        select(throttle_events.c.subject, func.count()).where(
            throttle_events.c.subject.like("terminal:%"), throttle_events.c.kind.in_(kinds),
            throttle_events.c.at > since).group_by(throttle_events.c.subject)).all()}


def terminals(throttler: Throttler, conn: Connection, now: datetime,
              live: list[Session]) -> list[TerminalLoad]:
    """Every terminal with a live visit, a counter in its window or a block; fullest first."""
    cfg = throttler.cfg
    verify = _counts(conn, (VERIFY_FAIL, VERIFY_PENDING),
                     now - timedelta(minutes=cfg.verify_window_minutes))
    failed = _counts(conn, (FLOW_FAIL,), now - timedelta(hours=cfg.failed_flows_window_hours))
    sent = _counts(conn, (SEND,), now - timedelta(minutes=cfg.sends_window_minutes))
    blocked = {row.subject.removeprefix("terminal:"): row for row in conn.execute(
        select(blocks).where(blocks.c.subject.like("terminal:%"), blocks.c.until > now)
        .order_by(blocks.c.until))}
    names = {s.terminal for s in live} | set(verify) | set(failed) | set(sent) | set(blocked)
    out = []
    for name in names:
        block = blocked.get(name)
        out.append(TerminalLoad(
            terminal=name, verify_failures=verify.get(name, 0),
            verify_limit=cfg.terminal_verify_failures, failed_flows=failed.get(name, 0),
            failed_flows_limit=cfg.terminal_failed_flows, sends=sent.get(name, 0),
            sends_limit=cfg.terminal_sends,
            wait_seconds=throttler.terminal_wait(conn, now, name) if name in verify else 0,
            blocked_until=block.until if block else None, reason=block.reason if block else ""))
    return sorted(out, key=lambda t: (-t.closeness, t.terminal))


def snapshot(throttler: Throttler, conn: Connection, now: datetime) -> Board:
    live = sessions(conn, now)
    users = [UserBlock(username=name, reason=row.reason, support_code=row.support_code,
                       until=row.until) for name, row in per_user_blocks(conn, now).items()]
    return Board(at=now, sessions=live, terminals=terminals(throttler, conn, now, live),
                 blocks=sorted(users, key=lambda b: b.username))
