"""Temporary access passes (Entra's Temporary Access Pass, its limits).

The helpdesk agent checks a person's identity in person and issues a pass for one named user:
8-48 characters, valid 10 minutes to 30 days (default: the policy's, 1 hour), one-time by
default, at most one active per user, optionally bound to one terminal. At the kiosk it is one
proof (two only where `passes.may_count_as_two`; an administrator's only with a second
agent's approval). The visitor then sets a new password or registers methods: the agent never
learns the password.

Kept only as an HMAC under the server key (kiosk.engine.methods.access_pass.pass_hash), shown
once, revocable. Issuing, use, revoking and expiry are audited (activity `helpdesk`) and told
to the user's registered contacts. Expiry is noted by the next helpdesk call that looks (the
console's board does every second), not by a timer.

At the kiosk (`verify`) the pass is proved like a code: reserved with the throttle, checked,
settled; a wrong pass counts like a wrong code. The answer's shape is the same for an account
with a pass, one without and a name nobody has (the same queries and one HMAC each).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from kiosk.backend import (
    CodeExpired,
    FlowState,
    InvalidInput,
    NotAvailable,
    NotEligible,
    Purpose,
    WrongCode,
)
from kiosk.desk import IssuedPass, PassInfo, PassRequest, clean_agent, clean_reason
from kiosk.engine import accounts, audit, registry
from kiosk.engine.audit import Activity, AuditContext, Result
from kiosk.engine.core import CommitThenRaise, Core, text_arg
from kiosk.engine.crypto import same
from kiosk.engine.delivery_base import Message
from kiosk.engine.directory import User
from kiosk.engine.flow import Flow
from kiosk.engine.messages import Event
from kiosk.engine.methods.access_pass import clean_pass, new_pass, pass_hash
from kiosk.engine.schema import access_passes, flows
from kiosk.engine.stages.prove import Prove, once
from kiosk.engine.text import normalize_username
from kiosk.engine.throttle import Reservation

NO_HASH = "0" * 64  # compared against when there is no pass: the same work, never equal


@dataclass(frozen=True)
class PassToCheck:
    account_id: int  # -1: a name nobody has
    pass_id: int | None
    pass_hash: str
    terminal: str
    proofs: int


def active_clause(now: datetime) -> Any:
    return and_(access_passes.c.revoked_at.is_(None), access_passes.c.expires_at > now,
                or_(access_passes.c.one_time.is_(False), access_passes.c.used_at.is_(None)))


def info_of(row: Any, username: str, now: datetime) -> PassInfo:
    state = ("revoked" if row.revoked_at is not None else
             "used" if row.one_time and row.used_at is not None else
             "expired" if row.expires_at <= now else "active")
    return PassInfo(username=username, state=state, created_at=row.created_at,
                    expires_at=row.expires_at, one_time=row.one_time, proofs=row.proofs,
                    terminal=row.terminal, issued_by=row.issued_by,
                    approved_by=row.approved_by, used_at=row.used_at, uses=row.uses)


def _context(pass_id: int, terminal: str, username: str) -> AuditContext:
    return AuditContext(f"pass-{pass_id}", "", terminal, username)


class AccessPasses:
    def __init__(self, core: Core, prove: Prove) -> None:
        self.core = core
        self.prove = prove

    # ------------------------------------------------------------ notices
    def _tell(self, conn: Connection, user_id: int, username: str, event: Event,
              when: datetime, terminal: str = "helpdesk", language: str = "") -> list[Message]:
        """A notice to every registered contact (the pass's text is never in it)."""
        return self.core.notifier.access_pass(conn, user_id, username, event, when, terminal,
                                              language)

    # ------------------------------------------------------------ the desk
    def _user(self, conn: Connection, username: object) -> User:
        name = normalize_username(text_arg(username, "username", 256))
        user = self.core.directory.find(conn, name)
        if user is None:
            raise NotAvailable(f"unknown user {name!r}", field="username")
        return user

    def issue(self, agent: object, request: PassRequest) -> IssuedPass:
        agent = clean_agent(agent)
        cfg = self.core.policy.passes
        if not cfg.enabled:
            raise NotAvailable("temporary access passes are off ([passes] enabled = false)")
        lifetime = request.lifetime_minutes or cfg.default_lifetime_minutes
        one_time = cfg.one_time if request.one_time is None else request.one_time
        terminal = text_arg(request.terminal, "terminal", 200, allow_empty=True).strip()
        approver = request.approved_by.strip()
        text = new_pass(request.length or cfg.default_length)
        now = self.core.clock.now()

        def work(conn: Connection, notices: list[Message]) -> IssuedPass:
            user = self._user(conn, request.username)
            groups = self.core.directory.group_names(conn, user.id)
            refusal = accounts.eligibility(self.core.policy, Purpose.REGISTER, user, groups,
                                           registry.Registered(), "")
            if refusal is not None:
                raise InvalidInput(f"{user.username} cannot use self-service: "
                                   f"{refusal.message}", field="username")
            proofs = 2 if request.count_as_two else 1
            if proofs == 2 and not cfg.may_count_as_two:
                raise InvalidInput("a pass counts as one proof here "
                                   "([passes] may_count_as_two = false)", field="count_as_two")
            if proofs == 2 and user.is_admin and (
                    not approver or approver.casefold() == agent.casefold()):
                raise InvalidInput("an administrator's pass counts as two proofs only with a "
                                   "second agent's approval", field="approved_by")
            # one active pass per user, also when two agents issue at once: the lock row
            self.core.throttle.lock(conn, f"pass:{user.id}")
            if conn.execute(select(access_passes.c.id).where(
                    access_passes.c.user_id == user.id, active_clause(now))).first():
                raise InvalidInput(f"{user.username} has an active pass; revoke it first",
                                   field="username")
            pass_id = int(conn.execute(insert(access_passes).values(
                user_id=user.id, pass_hash=pass_hash(self.core.key, user.id, text),
                terminal=terminal, one_time=one_time, proofs=proofs, issued_by=agent,
                approved_by=approver if proofs == 2 else "", created_at=now,
                expires_at=now + timedelta(minutes=lifetime), uses=0, revoked_at=None,
                expiry_noted=False)).inserted_primary_key[0])  # type: ignore[index]
            row = conn.execute(select(access_passes).where(access_passes.c.id == pass_id)).one()
            kind = "one-time" if one_time else "reusable"
            extra = f", only at {terminal}" if terminal else ""
            extra += f", counts as two, approved by {approver}" if proofs == 2 else ""
            audit.record(conn, _context(pass_id, f"desk:{agent}", user.username), now,
                         Activity.HELPDESK, Result.SUCCEEDED,
                         detail=f"temporary access pass issued by {agent} ({kind}, until "
                                f"{row.expires_at:%Y-%m-%d %H:%M} UTC{extra})")
            notices.extend(self._tell(conn, user.id, user.username, "pass_issued", now))
            return IssuedPass(info=info_of(row, user.username, now), access_pass=text)

        return self.core.tx(work)

    def revoke(self, agent: object, username: object, reason: object) -> PassInfo:
        agent, why = clean_agent(agent), clean_reason(reason)
        now = self.core.clock.now()

        def work(conn: Connection, notices: list[Message]) -> PassInfo:
            user = self._user(conn, username)
            self.core.throttle.lock(conn, f"pass:{user.id}")
            row = conn.execute(select(access_passes).where(
                access_passes.c.user_id == user.id, active_clause(now))).first()
            if row is None:
                raise NotAvailable(f"{user.username} has no active pass", field="username")
            conn.execute(update(access_passes).where(access_passes.c.id == row.id).values(
                revoked_at=now, expiry_noted=True))
            audit.record(conn, _context(row.id, f"desk:{agent}", user.username), now,
                         Activity.HELPDESK, Result.SUCCEEDED,
                         detail=f"temporary access pass revoked by {agent}: {why}")
            notices.extend(self._tell(conn, user.id, user.username, "pass_revoked", now))
            return info_of(conn.execute(select(access_passes).where(
                access_passes.c.id == row.id)).one(), user.username, now)

        return self.core.tx(work)

    def latest(self, conn: Connection, user_id: int, username: str) -> PassInfo | None:
        row = conn.execute(select(access_passes).where(access_passes.c.user_id == user_id)
                           .order_by(access_passes.c.id.desc()).limit(1)).first()
        return None if row is None else info_of(row, username, self.core.clock.now())

    def status(self, username: object) -> PassInfo | None:
        """The user's newest pass (active, used, expired or revoked), or None."""
        def work(conn: Connection, notices: list[Message]) -> PassInfo | None:
            user = self._user(conn, username)
            return self.latest(conn, user.id, user.username)

        return self.core.tx(work)

    def note_expired(self, conn: Connection, notices: list[Message]) -> int:
        """Audit and tell each pass that expired unused since the last look (once each)."""
        now = self.core.clock.now()
        rows = conn.execute(select(access_passes).where(
            access_passes.c.expiry_noted.is_(False), access_passes.c.expires_at <= now,
            access_passes.c.revoked_at.is_(None)).limit(100)).all()
        for row in rows:
            conn.execute(update(access_passes).where(access_passes.c.id == row.id)
                         .values(expiry_noted=True))
            user = self.core.directory.get_or_none(conn, row.user_id)
            name = user.username if user else f"#{row.user_id}"
            unused = row.used_at is None
            audit.record(conn, _context(row.id, "desk", name), row.expires_at,
                         Activity.HELPDESK, Result.ABANDONED if unused else Result.SUCCEEDED,
                         detail="temporary access pass expired" + (" unused" if unused else ""))
            if user is not None and unused:
                notices.extend(self._tell(conn, user.id, name, "pass_expired",
                                          row.expires_at))
        return len(rows)

    # ------------------------------------------------------------ the kiosk
    def verify(self, flow_id: object, terminal: str, value: object) -> FlowState:
        text = clean_pass(value)
        core = self.core

        def load(conn: Connection, flow: Flow) -> PassToCheck:
            self.prove.open_for(conn, flow, "pass")
            account = flow.account_id
            # the same query whether or not there is an account (or a pass)
            row = conn.execute(select(access_passes).where(
                access_passes.c.user_id == (account if account is not None else -1),
                active_clause(core.clock.now())).order_by(access_passes.c.id.desc())).first()
            if row is None:
                return PassToCheck(account if account is not None else -1, None, NO_HASH, "", 1)
            return PassToCheck(row.user_id, row.id, row.pass_hash, row.terminal, row.proofs)

        def check(material: PassToCheck) -> bool:
            right = same(pass_hash(core.key, material.account_id, text), material.pass_hash)
            bound_elsewhere = bool(material.terminal) and material.terminal != terminal
            return right and material.pass_id is not None and not bound_elsewhere

        def settle(conn: Connection, notices: list[Message], flow: Flow, material: PassToCheck,
                   right: bool, reservation: Reservation) -> FlowState:
            self.prove.open_for(conn, flow, "pass")
            if not right:
                self.prove.failed(conn, notices, flow, "pass", once("pass"), "wrong pass",
                                  WrongCode("that pass is not right",
                                            support_code=flow.support_code), reservation)
            return self._accept(conn, notices, flow, material, reservation)

        return self.prove.attempt(flow_id, terminal, "pass", load, check, settle)

    def _accept(self, conn: Connection, notices: list[Message], flow: Flow,
                material: PassToCheck, reservation: Reservation) -> FlowState:
        core = self.core
        now = core.clock.now()
        claimed = conn.execute(update(access_passes).where(
            access_passes.c.id == material.pass_id, active_clause(now)).values(
            used_at=now, uses=access_passes.c.uses + 1)).rowcount == 1
        if not claimed:  # used by a parallel request, revoked or expired meanwhile
            raise CommitThenRaise(CodeExpired("this pass is no longer valid",
                                              support_code=flow.support_code, reason="used"))
        user = core.directory.get(conn, material.account_id)
        if flow.user_id is None:  # a decoy flow (nothing registered): the pass proves it
            refusal = accounts.eligibility(core.policy, Purpose.REGISTER, user,
                                           core.directory.group_names(conn, user.id),
                                           registry.Registered(), flow.support_code)
            if refusal is not None:
                core.progress(conn, flow, Result.FAILED, "pass: not eligible", "pass")
                raise CommitThenRaise(refusal if isinstance(refusal, NotEligible) else
                                      NotEligible("this account cannot use self-service",
                                                  support_code=flow.support_code))
            conn.execute(update(flows).where(flows.c.id == flow.id).values(user_id=user.id))
            flow.user_id = user.id
        if user.is_admin:
            flow.gates_required = max(flow.gates_required, 2)
        if material.proofs == 2:
            flow.gates_passed.append("pass:second")
        audit.record(conn, _context(material.pass_id or 0, flow.terminal, user.username), now,
                     Activity.HELPDESK, Result.SUCCEEDED,
                     detail=f"temporary access pass used (support code {flow.support_code})")
        notices.extend(self._tell(conn, user.id, user.username, "pass_used", now,
                                  flow.terminal, flow.language))
        return self.prove.passed(conn, flow, "pass", reservation)
