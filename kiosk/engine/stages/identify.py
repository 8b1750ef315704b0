"""Who is asking: the start of a flow (enumeration-safe), earlier flows swept, cancelling."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Connection, insert, or_, select

from kiosk.backend import FlowState, InvalidInput, NotEligible, Purpose, Step
from kiosk.backend.vocabulary import member
from kiosk.engine import accounts, audit, registry
from kiosk.engine.audit import Activity, AuditContext, Result
from kiosk.engine.core import CommitThenRaise, Core, text_arg
from kiosk.engine.crypto import new_token, support_code
from kiosk.engine.delivery_base import Message
from kiosk.engine.flow import Flow, flow_from_row, view
from kiosk.engine.messages import message_language
from kiosk.engine.schema import flows
from kiosk.engine.text import normalize_username
from kiosk.engine.throttle import account_subject, terminal_subject, user_subject
from kiosk.i18n import is_language_tag

MAX_USERNAME = 256


class Identify:
    def __init__(self, core: Core) -> None:
        self.core = core

    def start(self, purpose: object, username: object, terminal: str,
              language: object = None) -> FlowState:
        """`language`: the visitor's (a tag like "de" or "de-AT"); codes and notices of the
        flow are written in it. A language the organisation does not offer gives its default;
        anything not shaped like a language tag is refused (invalid_input, field language)."""
        try:
            purpose = member(Purpose, purpose)
        except ValueError:
            raise InvalidInput("unknown purpose", field="purpose") from None
        name = normalize_username(text_arg(username, "username", MAX_USERNAME))
        if len(name) > MAX_USERNAME:  # NFKC can lengthen a name (ß → ss, ﷺ → 18 letters)
            raise InvalidInput(f"username is too long (at most {MAX_USERNAME} characters)",
                               field="username")
        org = self.core.policy.organization
        if language is not None and not is_language_tag(language):
            raise InvalidInput("unknown language", field="language")
        lang = message_language(org, language if isinstance(language, str) else None)
        return self.core.tx(
            lambda conn, notices: self._start(conn, notices, purpose, name, terminal, lang))

    def _start(self, conn: Connection, notices: list[Message], purpose: Purpose, name: str,
               terminal: str, language: str) -> FlowState:
        core, policy = self.core, self.core.policy
        now = core.clock.now()
        # alice@contoso.org and CONTOSO\alice are alice: one name from here on (account,
        # throttle subject, decoy, audit); another domain stays an unknown name
        name = core.sign_in.canonical(core.sign_in.forms(conn, now), name)
        self.sweep(conn, notices, name, terminal)
        user = core.directory.find(conn, name)
        # the same queries whether or not the name exists, so timing tells nothing
        groups = core.directory.group_names(conn, user.id if user else -1)
        reg = registry.load(conn, user.id if user else -1)
        correlation = str(uuid.uuid4())
        ctx = AuditContext(correlation, support_code(correlation), terminal, name)
        # per-user counters key on the account, however its name was typed
        subject = account_subject(user.id) if user else user_subject(name)
        block = core.throttle.active_block(conn, now, subject, terminal_subject(terminal))
        if block is not None:
            audit.record(conn, ctx, now, Activity.PROGRESS, Result.BLOCKED,
                         detail=f"start refused: {block.reason}")
            raise CommitThenRaise(core.blocked_error(block))

        required = policy.sspr.methods_required
        refusal = (NotEligible("this account cannot use self-service",
                               support_code=ctx.support_code) if user is None
                   else accounts.eligibility(policy, purpose, user, groups, reg,
                                             ctx.support_code))
        if refusal is not None and not policy.privacy.enumeration_safe:
            audit.record(conn, ctx, now, Activity.PROGRESS, Result.FAILED,
                         detail="unknown user" if user is None
                         else f"not eligible: {refusal.code}")
            raise CommitThenRaise(refusal)
        # until a proof succeeds a refused name looks like everyone else's: a decoy whose
        # codes never arrive (the code screen sends the person to the helpdesk)
        real = user if refusal is None else None
        if real is not None and real.is_admin:
            required = 2
        first = Step.SIGN_IN if purpose in (Purpose.CHANGE, Purpose.REGISTER) else \
            Step.CHOOSE_METHOD
        flow = Flow(
            id=new_token(), correlation_id=correlation, support_code=ctx.support_code,
            purpose=purpose, username=name, user_id=real.id if real else None,
            terminal=terminal, status="open", step=first, gates_required=required,
            gates_passed=[], attempted=False, data={}, created_at=now,
            expires_at=now + timedelta(minutes=policy.flow.lifetime_minutes), subject=subject,
            language=language)
        conn.execute(insert(flows).values(
            id=flow.id, correlation_id=flow.correlation_id, support_code=flow.support_code,
            purpose=purpose.value, username=name, user_id=flow.user_id, terminal=terminal,
            status="open", step=first.value, gates_required=required, gates_passed=[],
            attempted=False, data={}, created_at=now, expires_at=flow.expires_at,
            subject=subject, language=language))
        # a decoy's audit trail reads like a real one; only `detail` marks it for operators
        why = ("unknown user" if user is None else
               f"not eligible: {refusal.code} {refusal.params.get('reason', '')}".strip()
               if refusal is not None else "")
        core.progress(conn, flow, Result.SUCCEEDED,
                      f"identified for {purpose.value}" + (f" ({why}; decoy)" if why else ""))
        return core.state(conn, flow)

    def sweep(self, conn: Connection, notices: list[Message], username: str,
              terminal: str) -> None:
        """End this name's earlier open flows: superseded or expired ones are abandoned."""
        # only this terminal's own earlier flows, or expired ones: someone typing alice's name
        # at another kiosk must not cut short the reset she is doing right now
        rows = conn.execute(select(flows).where(
            flows.c.username == username, flows.c.status == "open",
            or_(flows.c.terminal == terminal,
                flows.c.expires_at <= self.core.clock.now()))).all()
        for row in rows:
            self.core.end_unproven(conn, notices, flow_from_row(row), "abandoned",
                                   Result.ABANDONED)

    def cancel(self, flow_id: object, terminal: str) -> FlowState:
        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow = self.core.flow(conn, flow_id, terminal, notices, guard=False)
            self.core.end_unproven(conn, notices, flow, "cancelled", Result.CANCELLED)
            flow.step = Step.CANCELLED
            return view(conn, flow, [])

        return self.core.tx(work)
