"""Cases: a visit looked up by the support code the visitor reads out (or by user name), for
the helpdesk agent.

A case is the audit log's events under one support code (every step, method, result,
terminal and time; the audit log never holds a secret), the flow's own row when there is one
(a start refused by a block leaves events only), and the blocks that stop it now. Opening a
case from a support code records `contacted_admin` under that visit; lifting a block records
the agent's name and reason (activity `helpdesk`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, desc, or_, select

from kiosk.backend import NotAvailable
from kiosk.desk import (
    Case,
    CaseBlock,
    CaseSummary,
    TimelineEntry,
    clean_agent,
    clean_reason,
    clean_support_code,
)
from kiosk.engine import audit
from kiosk.engine.audit import Activity, AuditContext, Result
from kiosk.engine.core import Core, text_arg
from kiosk.engine.delivery_base import Message
from kiosk.engine.schema import audit_events, blocks, flows
from kiosk.engine.text import normalize_username
from kiosk.engine.throttle import subjects_of, terminal_subject

MAX_EVENTS = 500
MAX_CASES = 50


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Cases:
    def __init__(self, core: Core, passes: Any) -> None:
        self.core = core
        self.passes = passes  # kiosk.engine.passes.AccessPasses: the user's pass, if any

    # ------------------------------------------------------------ reading
    def _subjects(self, conn: Connection, username: str, flow: Any) -> tuple[list[str], int | None]:
        """The per-user throttle subjects of the case's person, and the account id."""
        account: int | None
        if flow is not None and flow.subject.startswith("account:"):
            account = int(flow.subject.removeprefix("account:"))
        else:
            user = self.core.directory.find(conn, username) if username else None
            account = user.id if user else None
        return subjects_of(account, username), account

    def _blocks(self, conn: Connection, now: datetime, code: str, user_subjects: list[str],
                terminal: str, username: str) -> list[CaseBlock]:
        """Active blocks on this person or terminal, and any this visit set."""
        subjects = [*user_subjects, terminal_subject(terminal)] if terminal else user_subjects
        rows = conn.execute(select(blocks).where(
            blocks.c.until > now,
            or_(blocks.c.subject.in_(subjects), blocks.c.support_code == code))
            .order_by(blocks.c.until.desc())).all()
        out = []
        for row in rows:
            scope = "terminal" if row.subject.startswith("terminal:") else "user"
            target = row.subject.removeprefix("terminal:") if scope == "terminal" else username
            out.append(CaseBlock(scope=scope, target=target, reason=row.reason,
                                 support_code=row.support_code, created_at=row.created_at,
                                 until=row.until))
        return out

    def _case(self, conn: Connection, code: str) -> tuple[Case, list[str], AuditContext]:
        now = self.core.clock.now()
        events = conn.execute(select(audit_events).where(audit_events.c.support_code == code)
                              .order_by(audit_events.c.id).limit(MAX_EVENTS)).all()
        flow = conn.execute(select(flows).where(flows.c.support_code == code)
                            .order_by(desc(flows.c.created_at)).limit(1)).first()
        if not events and flow is None:
            raise NotAvailable(f"no visit with the support code {code}", field="support_code")
        first = events[0] if events else None
        username = flow.username if flow is not None else first.username  # type: ignore[union-attr]
        terminal = flow.terminal if flow is not None else first.terminal  # type: ignore[union-attr]
        correlation = flow.correlation_id if flow is not None else first.correlation_id  # type: ignore[union-attr]
        subjects, account = self._subjects(conn, username, flow)
        case = Case(
            support_code=code, username=username, terminal=terminal,
            purpose=flow.purpose if flow is not None else "",
            status=flow.status if flow is not None else "refused",
            step=flow.step if flow is not None else "",
            started_at=flow.created_at if flow is not None else first.at,  # type: ignore[union-attr]
            ended_at=flow.ended_at if flow is not None else None,
            timeline=[TimelineEntry(at=e.at, activity=e.activity, result=e.result,
                                    method=e.method, terminal=e.terminal, detail=e.detail)
                      for e in events],
            blocks=self._blocks(conn, now, code, subjects, terminal, username),
            access_pass=self.passes.latest(conn, account, username) if account else None)
        return case, subjects, AuditContext(correlation, code, terminal, username)

    def by_code(self, code: object, agent: object) -> Case:
        """The visit with this support code; records that the visitor contacted the desk."""
        code, agent = clean_support_code(code), clean_agent(agent)

        def work(conn: Connection, notices: list[Message]) -> Case:
            case, _subjects, ctx = self._case(conn, code)
            desk = AuditContext(ctx.correlation_id, code, f"desk:{agent}", ctx.username)
            audit.record(conn, desk, self.core.clock.now(), Activity.PROGRESS,
                         Result.CONTACTED_ADMIN, detail=f"case opened at the helpdesk by {agent}")
            return case

        return self.core.tx(work)

    def by_user(self, username: object) -> list[CaseSummary]:
        """The user's visits, newest first (also refused starts, which left no flow)."""
        name = normalize_username(text_arg(username, "username", 256))

        def work(conn: Connection, notices: list[Message]) -> list[CaseSummary]:
            now = self.core.clock.now()
            rows = conn.execute(select(flows).where(flows.c.username == name)
                                .order_by(desc(flows.c.created_at)).limit(MAX_CASES)).all()
            seen = {row.support_code for row in rows}
            refused = conn.execute(select(audit_events).where(
                audit_events.c.username == name, audit_events.c.support_code != "",
                audit_events.c.detail.like("start refused%"))
                .order_by(desc(audit_events.c.id)).limit(MAX_CASES)).all()
            blocked = {row.support_code for row in conn.execute(select(blocks.c.support_code)
                       .where(blocks.c.until > now))}
            out = [CaseSummary(support_code=r.support_code, purpose=r.purpose,
                               terminal=r.terminal, started_at=r.created_at, status=r.status,
                               blocked=r.support_code in blocked) for r in rows]
            out += [CaseSummary(support_code=e.support_code, purpose="", terminal=e.terminal,
                                started_at=e.at, status="refused") for e in refused
                    if e.support_code not in seen]
            if not out and self.core.directory.find(conn, name) is None:
                raise NotAvailable(f"no visits and no user named {name!r}", field="username")
            return sorted(out, key=lambda c: _aware(c.started_at), reverse=True)[:MAX_CASES]

        return self.core.tx(work)

    # ------------------------------------------------------------ lifting
    def lift(self, code: object, agent: object, reason: object) -> int:
        """End the blocks that stop this visit's person (and its terminal, when that is what
        blocks it) and forget their counters, so the next mistake does not block again."""
        code, agent, why = clean_support_code(code), clean_agent(agent), clean_reason(reason)

        def work(conn: Connection, notices: list[Message]) -> int:
            case, subjects, ctx = self._case(conn, code)
            if not case.blocks:
                raise NotAvailable(f"nothing blocks the visit {code} now", field="support_code")
            return self._lift(conn, case.blocks, subjects, ctx, agent, why)

        return self.core.tx(work)

    def _lift(self, conn: Connection, found: list[CaseBlock], subjects: list[str],
              ctx: AuditContext, agent: str, why: str) -> int:
        from kiosk.engine.throttle import lift_terminal

        core, now = self.core, self.core.clock.now()
        terminals = sorted({b.target for b in found if b.scope == "terminal"})
        core.throttle.lock(conn, *subjects, *(terminal_subject(t) for t in terminals))
        lifted = core.throttle.lift(conn, now, *subjects)
        core.throttle.clear_user(conn, *subjects)
        lifted += sum(lift_terminal(core.throttle, conn, now, t) for t in terminals)
        lifted += conn.execute(blocks.update().where(  # a block this visit set elsewhere
            blocks.c.support_code == ctx.support_code, blocks.c.until > now).values(
            until=now)).rowcount or 0
        what = ", ".join(f"{b.scope} {b.target} ({b.reason})" for b in found)
        audit.record(conn, AuditContext(ctx.correlation_id, ctx.support_code, f"desk:{agent}",
                                        ctx.username), now, Activity.HELPDESK, Result.SUCCEEDED,
                     detail=f"block lifted by {agent}: {what}; reason: {why}")
        return lifted

    def lift_user(self, username: object, agent: object, reason: object) -> int:
        """End a user's blocks (the board's one key), audited like a case's."""
        name = normalize_username(text_arg(username, "username", 256))
        agent, why = clean_agent(agent), clean_reason(reason)

        def work(conn: Connection, notices: list[Message]) -> int:
            subjects, _account = self._subjects(conn, name, None)
            now = self.core.clock.now()
            rows = conn.execute(select(blocks).where(blocks.c.subject.in_(subjects),
                                                     blocks.c.until > now)
                                .order_by(blocks.c.created_at)).all()
            if not rows:
                raise NotAvailable(f"{name} is not blocked now", field="username")
            found = [CaseBlock(scope="user", target=name, reason=r.reason,
                               support_code=r.support_code, created_at=r.created_at,
                               until=r.until) for r in rows]
            try:  # audited under the visit that set the newest block
                ctx = self._case(conn, rows[-1].support_code)[2]
            except NotAvailable:
                ctx = AuditContext(f"desk-{rows[-1].id}", rows[-1].support_code, "", name)
            return self._lift(conn, found, subjects, ctx, agent, why)

        return self.core.tx(work)

