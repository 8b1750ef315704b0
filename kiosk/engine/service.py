"""The engine: the server-side SSPR state machine over storage, directory, methods and throttles.

Every public call takes the terminal identity and checks the flow's step before doing
anything, so no client can skip a step. Calls are synchronous; EmbeddedBackend runs them in a
worker thread and the HTTP API in its thread pool.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import Connection, Engine, insert, or_, select

from kiosk.backend import (
    Blocked,
    Branding,
    InvalidInput,
    KioskError,
    MethodKind,
    MethodOption,
    NotAvailable,
    NotEligible,
    NotRegistered,
    OutboxMessage,
    Purpose,
    Step,
)
from kiosk.engine import audit, registry
from kiosk.engine.audit import Activity, AuditContext, Result
from kiosk.engine.clock import Clock, SystemClock
from kiosk.engine.config import Policy
from kiosk.engine.crypto import Hasher, new_token, support_code
from kiosk.engine.db import create_db_engine, migrate, server_key
from kiosk.engine.decoy import DecoyProfile, ShapeCache, decoy_profile
from kiosk.engine.delivery_base import Delivery, DeliveryError, Message
from kiosk.engine.directory import BuiltinDirectory, Directory, User
from kiosk.engine.flow import (
    CHANNELS_OF,
    Flow,
    expired,
    flow_from_row,
    load_flow,
    save_flow,
    view,
)
from kiosk.engine.notify import Notifier
from kiosk.engine.outbox import OutboxDelivery
from kiosk.engine.passwords import PasswordPolicy
from kiosk.engine.schema import flows
from kiosk.engine.text import has_control_chars, mask_email, mask_phone, normalize_username
from kiosk.engine.throttle import (
    ActiveBlock,
    Throttler,
    account_subject,
    terminal_subject,
    user_subject,
)

log = logging.getLogger("kiosk.engine")
T = TypeVar("T")

MAX_USERNAME = 256


class CommitThenRaise(Exception):
    """Raised inside a transaction: keep what was written (audit, counters), then raise."""

    def __init__(self, error: KioskError) -> None:
        super().__init__(error.code)
        self.error = error


def text_arg(value: object, name: str, max_len: int, *, allow_empty: bool = False,
             allow_control: bool = False) -> str:
    """Refuse wrong types, huge strings, text UTF-8 cannot encode (lone surrogates) and control
    characters before any work is done.
    (A new password may hold them: the password policy reports that as one of its rules.)"""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text", field=name)
    if len(value) > max_len:
        raise InvalidInput(f"{name} is too long (at most {max_len} characters)", field=name)
    try:  # a lone surrogate ("\ud800", which JSON can carry) is no text any store can keep
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{name} is not valid text", field=name) from None
    if not allow_control and has_control_chars(value):
        raise InvalidInput(f"{name} contains control characters", field=name)
    if not allow_empty and not value.strip():
        raise InvalidInput(f"{name} is empty", field=name)
    return value


class EngineCore:
    """Construction, transactions, eligibility and the flow's start and end."""

    def __init__(
        self,
        policy: Policy,
        db: Engine | None = None,
        *,
        clock: Clock | None = None,
        delivery: Delivery | None = None,
        directory: Directory | None = None,
        run_migrations: bool = True,
    ) -> None:
        self.policy = policy
        self.db = db or create_db_engine(policy.database.url)
        if run_migrations:
            migrate(self.db)
        self.clock: Clock = clock or SystemClock()
        self.key = server_key(self.db, policy.secrets)
        self.hasher = Hasher(policy.security)
        if directory is None and policy.directory.kind == "ldap":
            from kiosk.engine.ldap_directory import LdapDirectory  # ldap3 only when configured
            directory = LdapDirectory(policy.ldap, clock=self.clock)
        self.directory: Directory = directory or BuiltinDirectory(self.hasher)
        self.throttle = Throttler(policy.throttle)
        self.outbox = OutboxDelivery(self.db, self.clock)
        self.delivery: Delivery = delivery or self.outbox
        if delivery is None and policy.delivery.kind != "outbox":
            # imported only when used: SMTP and httpx cost start-up time the demo does not need
            from kiosk.engine.delivery import build_delivery

            self.delivery = build_delivery(policy.delivery, self.outbox)
        if not isinstance(self.delivery, OutboxDelivery):
            # a relay's time and failures must not reach the answer: a real account and a decoy
            # (which sends nothing) answer alike; each outcome is audited when it is known
            from kiosk.engine.delivery_queue import QueuedDelivery, audit_outcomes

            if not isinstance(self.delivery, QueuedDelivery):
                self.delivery = QueuedDelivery(self.delivery)
            if self.delivery.on_outcome is None:
                self.delivery.on_outcome = audit_outcomes(self.db, self.clock)
        self.passwords = PasswordPolicy(policy.password, policy.organization.name)
        self.notifier = Notifier(policy)
        self.decoy_shape = ShapeCache(policy.privacy.decoy_email_domains,
                                      policy.privacy.decoy_country_codes)

    # ------------------------------------------------------------ plumbing
    def tx(self, work: Callable[[Connection, list[Message]], T]) -> T:
        """Run `work` in one transaction; then send the notifications it queued (best effort)."""
        notices: list[Message] = []
        error: KioskError | None = None
        with self.db.begin() as conn:
            try:
                result = work(conn, notices)
            except CommitThenRaise as deferred:
                error = deferred.error
        self.notify(notices)
        if error is not None:
            raise error
        return result

    def notify(self, notices: list[Message]) -> None:
        for message in notices:
            try:
                self.delivery.send(message)
            except DeliveryError as exc:  # a notice lost must not undo a finished reset
                log.warning("notification to %s not sent: %s", message.channel, exc)

    def flow(self, conn: Connection, flow_id: object, terminal: str,
             notices: list[Message], *, guard: bool = True) -> Flow:
        """The caller's open flow; an expired one is ended (and counted) before refusing.

        With `guard` (every step but cancelling), a block on the account or the terminal
        refuses the call: a block set by another request between two steps stops this flow
        too, whatever it had proven."""
        flow = load_flow(conn, flow_id, terminal)
        error = expired(flow, self.clock.now())
        if error is not None:
            self.end_unproven(conn, notices, flow, "abandoned", Result.ABANDONED)
            raise CommitThenRaise(error)
        if guard:
            self.refuse_if_blocked(conn, flow)
        return flow

    def refuse_if_blocked(self, conn: Connection, flow: Flow) -> None:
        block = self.throttle.active_block(conn, self.clock.now(), flow.subject,
                                           terminal_subject(flow.terminal))
        if block is not None:
            raise CommitThenRaise(self.blocked_error(block))

    def progress(self, conn: Connection, flow: Flow, result: Result, detail: str,
                 method: str = "") -> None:
        audit.record(conn, flow.audit, self.clock.now(), Activity.PROGRESS, result,
                     method=method, detail=detail)

    # ------------------------------------------------------------ public, simple
    def branding(self) -> Branding:
        org = self.policy.organization
        helpdesk = " · ".join(
            part for part in (org.helpdesk, org.helpdesk_phone, org.helpdesk_email) if part)
        return Branding(
            organization=org.name, helpdesk=helpdesk, helpdesk_url=org.helpdesk_url,
            languages=list(org.languages), theme=org.theme, demo=self.policy.demo,
            password_min_length=self.policy.password.min_length,
            password_max_length=self.policy.password.max_length,
            code_length=self.policy.codes.length)

    def outbox_messages(self, limit: int = 20) -> list[OutboxMessage]:
        if not self.policy.demo:
            raise NotAvailable("the outbox is shown in demo mode only")
        if not isinstance(limit, int) or not 1 <= limit <= 200:
            raise InvalidInput("limit must be 1-200", field="limit")
        return [OutboxMessage(**{k: row[k] for k in OutboxMessage.model_fields})
                for row in self.outbox.latest(limit)]

    # ------------------------------------------------------------ methods offered
    def usable_methods(self, user: User | None, reg: registry.Registered, *,
                       before_proof: bool = False) -> list[str]:
        """Registered methods the policy allows for this user, in display order.

        `before_proof`: nothing is proven yet, so custom questions (whose text is the
        user's own, and would tell a stranger about them) do not count."""
        allowed = [m for m in self.policy.sspr.methods
                   if not (m == "questions" and user is not None and user.is_admin)]
        have = set(reg.contacts)
        answers = [a for a in reg.answers if not (before_proof and a.custom_text is not None)]
        if len(answers) >= self.policy.questions.to_reset:
            have.add("questions")
        if reg.totp_secret:
            have.add("authenticator")
        return [kind for kind in allowed if kind in have]

    def required_shown(self, flow: Flow) -> int:
        """Proofs needed as far as the person may know: until one succeeds, every account
        shows the policy's number (an administrator's second proof shows after the first)."""
        if flow.gates_passed:
            return flow.gates_required
        return min(flow.gates_required, self.policy.sspr.methods_required)

    def offered(self, flow: Flow, usable: list[str]) -> list[str]:
        """What the person may choose next: usable methods not yet passed, with the
        authenticator rule applied (it must be one of the gates when registered)."""
        left = [m for m in usable if m not in flow.gates_passed]
        must_totp = (self.policy.authenticator.required_if_registered
                     and "authenticator" in usable and "authenticator" not in flow.gates_passed)
        if must_totp and self.required_shown(flow) - len(flow.gates_passed) == 1:
            return ["authenticator"]
        return left

    def method_options(self, flow: Flow, conn: Connection) -> list[MethodOption]:
        if flow.step.value not in ("choose_method", "verify_code", "answer_questions",
                                   "verify_totp"):
            return []
        masks, usable = self.masks_and_usable(conn, flow)
        self.decoy_shape.get(conn, self.clock.now())  # real and decoy: the same statements
        options = [MethodOption(kind=MethodKind(k), masked=masks.get(k, ""),
                                channels=CHANNELS_OF[k]) for k in self.offered(flow, usable)]
        options += [MethodOption(kind=MethodKind(k), masked=masks.get(k, ""),
                                 channels=CHANNELS_OF[k], passed=True)
                    for k in flow.gates_passed if k in CHANNELS_OF]  # not the password
        return options

    def masks_and_usable(self, conn: Connection, flow: Flow) -> tuple[dict[str, str], list[str]]:
        if flow.decoy:
            # the same lookups a real account costs, so timing does not tell them apart
            self.directory.get_or_none(conn, -1)
            registry.load(conn, -1)
            profile = self.decoy(conn, flow.username)
            usable = list(profile.contacts)
            if profile.question_ids:
                usable.append("questions")
            if profile.has_authenticator:
                usable.append("authenticator")
            order = list(self.policy.sspr.methods)
            return profile.contacts, sorted(usable, key=order.index)
        user = self.directory.get(conn, flow.user_id)  # type: ignore[arg-type]
        reg = registry.load(conn, user.id)
        return masks_of(reg), self.usable_methods(user, reg, before_proof=not flow.gates_passed)

    def decoy(self, conn: Connection, username: str) -> DecoyProfile:
        shape = self.decoy_shape.get(conn, self.clock.now())
        return decoy_profile(self.key, username, list(self.policy.sspr.methods),
                             self.policy.questions.to_register, self.policy.sspr.methods_required,
                             shape)

    def state(self, conn: Connection, flow: Flow):  # type: ignore[no-untyped-def]
        return view(conn, flow, self.method_options(flow, conn), self.required_shown(flow))

    # ------------------------------------------------------------ start
    def start(self, purpose: object, username: object, terminal: str):  # type: ignore[no-untyped-def]
        try:
            purpose = Purpose(purpose)
        except ValueError:
            raise InvalidInput("unknown purpose", field="purpose") from None
        name = normalize_username(text_arg(username, "username", MAX_USERNAME))
        if len(name) > MAX_USERNAME:  # NFKC can lengthen a name (ß → ss, ﷺ → 18 letters)
            raise InvalidInput(f"username is too long (at most {MAX_USERNAME} characters)",
                               field="username")
        return self.tx(lambda conn, notices: self._start(conn, notices, purpose, name, terminal))

    def _start(self, conn: Connection, notices: list[Message], purpose: Purpose, name: str,
               terminal: str):  # type: ignore[no-untyped-def]
        now = self.clock.now()
        self.sweep(conn, notices, name, terminal)
        user = self.directory.find(conn, name)
        # the same queries whether or not the name exists, so timing tells nothing
        groups = self.directory.group_names(conn, user.id if user else -1)
        reg = registry.load(conn, user.id if user else -1)
        correlation = str(uuid.uuid4())
        ctx = AuditContext(correlation, support_code(correlation), terminal, name)
        # per-user counters key on the account, however its name was typed
        subject = account_subject(user.id) if user else user_subject(name)
        block = self.throttle.active_block(conn, now, subject, terminal_subject(terminal))
        if block is not None:
            audit.record(conn, ctx, now, Activity.PROGRESS, Result.BLOCKED,
                         detail=f"start refused: {block.reason}")
            raise CommitThenRaise(self.blocked_error(block))

        required = self.policy.sspr.methods_required
        safe = self.policy.privacy.enumeration_safe
        real = user  # the account the flow may act on; None: a decoy
        why_decoy = "unknown user"
        if user is None:
            if not safe:
                audit.record(conn, ctx, now, Activity.PROGRESS, Result.FAILED,
                             detail="unknown user")
                raise CommitThenRaise(NotEligible("this account cannot use self-service",
                                                  support_code=ctx.support_code))
        else:
            refusal = self.eligibility(purpose, user, groups, reg, ctx.support_code)
            if refusal is not None:
                if not safe:
                    audit.record(conn, ctx, now, Activity.PROGRESS, Result.FAILED,
                                 detail=f"not eligible: {refusal.code}")
                    raise CommitThenRaise(refusal)
                # until a proof succeeds it looks like everyone else's: a decoy whose codes
                # never arrive (the code screen sends the person to the helpdesk)
                real = None
                why_decoy = f"not eligible: {refusal.code} {refusal.params.get('reason', '')}"
            elif user.is_admin:
                required = 2

        first = Step.SIGN_IN if purpose in (Purpose.CHANGE, Purpose.REGISTER) else \
            Step.CHOOSE_METHOD
        flow = Flow(
            id=new_token(), correlation_id=correlation, support_code=ctx.support_code,
            purpose=purpose, username=name, user_id=real.id if real else None,
            terminal=terminal, status="open", step=first, gates_required=required,
            gates_passed=[], attempted=False, data={}, created_at=now,
            expires_at=now + timedelta(minutes=self.policy.flow.lifetime_minutes),
            subject=subject)
        conn.execute(insert(flows).values(
            id=flow.id, correlation_id=flow.correlation_id, support_code=flow.support_code,
            purpose=purpose.value, username=name, user_id=flow.user_id, terminal=terminal,
            status="open", step=first.value, gates_required=required, gates_passed=[],
            attempted=False, data={}, created_at=now, expires_at=flow.expires_at,
            subject=subject))
        # a decoy's audit trail reads like a real one; only `detail` marks it for operators
        self.progress(conn, flow, Result.SUCCEEDED,
                      f"identified for {purpose.value}"
                      + (f" ({why_decoy.strip()}; decoy)" if real is None else ""))
        return self.state(conn, flow)

    def eligibility(self, purpose: Purpose, user: User, groups: set[str],
                    reg: registry.Registered, code: str) -> KioskError | None:
        """In order: enabled for the user (group scope) → enough methods → admin rule."""
        if not user.enabled:
            return NotEligible("this account is disabled", support_code=code, reason="disabled")
        if purpose == Purpose.CHANGE:
            return None  # anyone who knows the password may change it
        sspr = self.policy.sspr
        # administrators always may reset, whatever the scope
        in_scope = user.is_admin or sspr.enabled == "all" or (
            sspr.enabled == "selected" and bool(groups & set(sspr.groups)))
        if not in_scope:
            return NotEligible("self-service password reset is not enabled for this account",
                               support_code=code, reason="scope")
        if purpose == Purpose.REGISTER:
            return None
        needed = 2 if user.is_admin else sspr.methods_required
        if len(self.usable_methods(user, reg)) < needed:
            return NotRegistered("not enough verification methods are registered",
                                 support_code=code, needed=needed)
        return None

    def blocked_error(self, block: ActiveBlock) -> Blocked:
        return Blocked("self-service is blocked for now; please contact the helpdesk",
                       support_code=block.support_code, until=block.until.isoformat(),
                       helpdesk=self.branding().helpdesk)

    def on_block(self, conn: Connection, flow: Flow, block: ActiveBlock,
                 notices: list[Message]) -> None:
        """A block was just set: audit it, end the flow, alert the admins."""
        now = self.clock.now()
        audit.record(conn, flow.audit, now, Activity.BLOCKED, Result.BLOCKED,
                     detail=block.reason)
        flow.status = "blocked"
        save_flow(conn, flow, ended_at=now)
        # one block, one alert: later refusals during the block alert nobody
        # the typed name is named only when a directory account is behind it (also behind a
        # decoy standing for a real account that cannot use self-service)
        notices.extend(self.notifier.misuse(
            conn, flow.audit, block.support_code, now, block.until,
            known=flow.account_id is not None or "account_id" in flow.data))

    # ------------------------------------------------------------ end of a flow
    def sweep(self, conn: Connection, notices: list[Message], username: str,
              terminal: str) -> None:
        """End this name's earlier open flows: superseded or expired ones are abandoned, and
        one that tried and failed to prove identity counts as a failed flow."""
        # only this terminal's own earlier flows, or expired ones: someone typing alice's name
        # at another kiosk must not cut short the reset she is doing right now
        rows = conn.execute(select(flows).where(
            flows.c.username == username, flows.c.status == "open",
            or_(flows.c.terminal == terminal, flows.c.expires_at <= self.clock.now()))).all()
        for row in rows:
            self.end_unproven(conn, notices, flow_from_row(row), "abandoned", Result.ABANDONED)

    def end_unproven(self, conn: Connection, notices: list[Message], flow: Flow, status: str,
                     result: Result) -> None:
        now = self.clock.now()
        if flow.attempted and not flow.proven:  # counting follows: its locks come first
            self.throttle.lock(conn, flow.subject, terminal_subject(flow.terminal))
        flow.status = status
        flow.data = {}  # drop drawn questions, a pending enrolment secret, ...
        save_flow(conn, flow, ended_at=now)
        activity = {Purpose.RESET: Activity.RESET, Purpose.UNLOCK: Activity.UNLOCK,
                    Purpose.CHANGE: Activity.CHANGE,
                    Purpose.REGISTER: Activity.REGISTERED}[flow.purpose]
        audit.record(conn, flow.audit, now, activity, result, detail=f"flow {status}")
        if flow.attempted and not flow.proven:
            block = self.throttle.record_failed_flow(conn, now, flow.subject, flow.terminal,
                                                     flow.support_code)
            if block is not None:
                self.on_block(conn, flow, block, notices)

    def cancel(self, flow_id: object, terminal: str):  # type: ignore[no-untyped-def]
        def work(conn: Connection, notices: list[Message]):  # type: ignore[no-untyped-def]
            flow = self.flow(conn, flow_id, terminal, notices, guard=False)
            self.end_unproven(conn, notices, flow, "cancelled", Result.CANCELLED)
            flow.step = Step.CANCELLED
            return view(conn, flow, [])
        return self.tx(work)


def masks_of(reg: registry.Registered) -> dict[str, str]:
    masks: dict[str, str] = {}
    for kind, value in reg.contacts.items():
        masks[kind] = mask_email(value) if kind == "email" else mask_phone(value)
    return masks
