"""The engine's collaborators and the plumbing every stage shares: transactions, loading a
flow (with its expiry and block checks), audit progress, blocks, the end of a flow, its view.

Stages (kiosk.engine.stages) hold one Core; none holds another stage's state. Calls are
synchronous; EmbeddedBackend runs them in a worker thread and the HTTP API in its thread pool.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy import Engine as Database

from kiosk.backend import (
    Blocked,
    Branding,
    FlowState,
    InvalidInput,
    KioskError,
    MethodKind,
    MethodOption,
    Purpose,
    Step,
)
from kiosk.engine import accounts, audit, registry
from kiosk.engine.accounts import Account
from kiosk.engine.audit import Activity, Result
from kiosk.engine.branding import helpdesk_line, policy_branding
from kiosk.engine.clock import Clock, SystemClock
from kiosk.engine.config import Policy
from kiosk.engine.crypto import Hasher
from kiosk.engine.db import create_db_engine, migrate
from kiosk.engine.decoy import ShapeCache
from kiosk.engine.delivery_base import Delivery, DeliveryError, Message
from kiosk.engine.directory import BuiltinDirectory, Directory, User
from kiosk.engine.flow import VERIFY_STEPS, Flow, expired, load_flow, save_flow, view
from kiosk.engine.keys import server_key
from kiosk.engine.methods import CHANNELS_OF
from kiosk.engine.notify import Notifier, remember_language
from kiosk.engine.outbox import OutboxDelivery
from kiosk.engine.passwords import PasswordPolicy
from kiosk.engine.signin import SignInNames, domains_of_dn, learn_builtin_domains
from kiosk.engine.text import has_control_chars
from kiosk.engine.throttle import ActiveBlock, Throttler, terminal_subject

log = logging.getLogger("kiosk.engine")
T = TypeVar("T")

ACTIVITY_OF = {Purpose.RESET: Activity.RESET, Purpose.UNLOCK: Activity.UNLOCK,
               Purpose.CHANGE: Activity.CHANGE, Purpose.REGISTER: Activity.REGISTERED}


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


class Core:
    """What every stage works with: policy, database, clock, key, directory, throttle, delivery."""

    def __init__(self, policy: Policy, db: Database | None = None, *, clock: Clock | None = None,
                 delivery: Delivery | None = None, directory: Directory | None = None,
                 run_migrations: bool = True) -> None:
        self.policy = policy
        self.db = db or create_db_engine(policy.database.url)
        if run_migrations:
            migrate(self.db)
        self.clock: Clock = clock or SystemClock()
        self.key = server_key(self.db, policy.secrets)  # outside the database
        self.hasher = Hasher(policy.security)
        if directory is None and policy.directory.kind == "ldap":
            from kiosk.engine.ldap_directory import LdapDirectory  # ldap3 only when configured
            directory = LdapDirectory(policy.ldap, clock=self.clock)
        self.directory: Directory = directory or BuiltinDirectory(self.hasher)
        self.outbox = OutboxDelivery(self.db, self.clock)
        self.delivery: Delivery = self._delivery(delivery)
        self._follow(policy)
        self.sign_in = self._sign_in_names()

    def _follow(self, policy: Policy) -> None:
        """The collaborators made from the policy's live sections (kiosk.engine.reload)."""
        self.policy = policy
        self.throttle = Throttler(policy.throttle)
        self.passwords = PasswordPolicy(policy.password, policy.organization.name)
        # LDAP / AD: alerts also reach the admin group's members who never used the kiosk
        self.notifier = Notifier(policy, getattr(self.directory, "admin_emails", None))
        self.decoy_shape = ShapeCache(policy.privacy.decoy_email_domains,
                                      policy.privacy.decoy_country_codes)

    def with_policy(self, policy: Policy) -> Core:
        """A copy sharing the database, key, directory and delivery, under `policy` (whose
        sections that need a restart are the same as this one's)."""
        core = copy.copy(self)
        core._follow(policy)
        return core

    def _delivery(self, given: Delivery | None) -> Delivery:
        delivery = given or self.outbox
        if given is None and self.policy.delivery.kind != "outbox":
            # imported only when used: SMTP and httpx cost start-up time the demo does not need
            from kiosk.engine.delivery import build_delivery

            delivery = build_delivery(self.policy.delivery, self.outbox)
        if isinstance(delivery, OutboxDelivery):
            return delivery
        # a relay's time and failures must not reach the answer: a real account and a decoy
        # (which sends nothing) answer alike; each outcome is audited when it is known
        from kiosk.engine.delivery_queue import QueuedDelivery, audit_outcomes

        if not isinstance(delivery, QueuedDelivery):
            delivery = QueuedDelivery(delivery)
        if delivery.on_outcome is None:
            delivery.on_outcome = audit_outcomes(self.db, self.clock)
        return delivery

    # ------------------------------------------------------------ transactions
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

    # ------------------------------------------------------------ flows
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
            block = self.throttle.active_block(conn, self.clock.now(), flow.subject,
                                               terminal_subject(flow.terminal))
            if block is not None:
                raise CommitThenRaise(self.blocked_error(block))
        return flow

    def flow_for_update(self, conn: Connection, flow_id: object, terminal: str,
                        notices: list[Message]) -> Flow:
        """`flow`, read after taking the flow's throttle locks: a step that ends the flow (a new
        password, an unlock) runs once even when twenty submits of it arrive at once. The peek
        takes no lock, so the locks still come before any other write (see Prove.attempt)."""
        peek = load_flow(conn, flow_id, terminal)
        self.throttle.lock(conn, peek.subject, terminal_subject(peek.terminal))
        return self.flow(conn, flow_id, terminal, notices)

    def account(self, conn: Connection, flow: Flow) -> Account:
        return accounts.load(conn, flow, self.policy, self.directory, self.key,
                             self.decoy_shape.get(conn, self.clock.now()))

    def user_of(self, conn: Connection, flow: Flow) -> User:
        return self.directory.get(conn, flow.known_user_id())

    def progress(self, conn: Connection, flow: Flow, result: Result, detail: str,
                 method: str = "") -> None:
        audit.record(conn, flow.audit, self.clock.now(), Activity.PROGRESS, result,
                     method=method, detail=detail)

    def state(self, conn: Connection, flow: Flow) -> FlowState:
        """The flow as the client sees it (see accounts.required_shown for the proofs)."""
        options: list[MethodOption] = []
        if flow.step in VERIFY_STEPS:
            account = self.account(conn, flow)
            masks = account.masks()
            options = [MethodOption(kind=MethodKind(k), masked=masks.get(k, ""),
                                    channels=CHANNELS_OF[k])
                       for k in accounts.offered(self.policy, flow, account.usable(flow))]
            options += [MethodOption(kind=MethodKind(k), masked=masks.get(k, ""),
                                     channels=CHANNELS_OF[k], passed=True)
                        for k in flow.gates_passed if k in CHANNELS_OF]  # not the password
        if flow.step == Step.REGISTER and flow.user_id is not None:
            user = self.user_of(conn, flow)
            flow.registration = accounts.registration_status(
                self.policy, self.clock.now(), user, registry.load(conn, user.id),
                self.directory.owned_contacts)
        return view(conn, flow, options, accounts.required_shown(self.policy, flow))

    # ------------------------------------------------------------ blocks
    def _sign_in_names(self) -> SignInNames:
        if self.policy.directory.kind == "ldap":
            base = self.policy.ldap.user_base
            return SignInNames(
                self.policy.directory, lambda _conn: domains_of_dn(base),
                keep_domain=self.policy.ldap.username_attribute == "userPrincipalName")
        return SignInNames(self.policy.directory, learn_builtin_domains)

    def helpdesk(self) -> str:
        return helpdesk_line(self.policy.organization)

    def branding(self) -> Branding:
        forms = self.sign_in.forms_from(self.db, self.clock.now())
        return policy_branding(self.policy, forms.domains, forms.shown_netbios)

    def blocked_error(self, block: ActiveBlock) -> Blocked:
        return Blocked("self-service is blocked for now; please contact the helpdesk",
                       support_code=block.support_code, until=block.until.isoformat(),
                       helpdesk=self.helpdesk())

    def on_block(self, conn: Connection, flow: Flow, block: ActiveBlock,
                 notices: list[Message]) -> None:
        """A block was just set: audit it, end the flow, alert the admins."""
        now = self.clock.now()
        audit.record(conn, flow.audit, now, Activity.BLOCKED, Result.BLOCKED,
                     detail=block.reason)
        flow.status = "blocked"
        save_flow(conn, flow, ended_at=now)
        # one block, one alert: later refusals during the block alert nobody. The typed
        # name is named only when a directory account is behind it (a decoy may stand for one)
        notices.extend(self.notifier.misuse(conn, flow.audit, block.support_code, now,
                                            block.until, known=flow.account_id is not None))

    # ------------------------------------------------------------ the end of a flow
    def end_unproven(self, conn: Connection, notices: list[Message], flow: Flow, status: str,
                     result: Result) -> None:
        """Abandoned, cancelled or superseded: one that tried and failed to prove identity
        counts as a failed flow."""
        now = self.clock.now()
        counts = flow.attempted and not flow.proven
        if counts:  # counting follows: its locks come before any other write
            self.throttle.lock(conn, flow.subject, terminal_subject(flow.terminal))
        flow.status = status
        flow.data = {}  # drop drawn questions, a pending enrolment secret, ...
        save_flow(conn, flow, ended_at=now)
        audit.record(conn, flow.audit, now, ACTIVITY_OF[flow.purpose], result,
                     detail=f"flow {status}")
        if counts:
            block = self.throttle.record_failed_flow(conn, now, flow.subject, flow.terminal,
                                                     flow.support_code)
            if block is not None:
                self.on_block(conn, flow, block, notices)

    def finish(self, conn: Connection, flow: Flow, result: str, *, clear: bool = True) -> None:
        flow.status = "done"
        flow.step = Step.DONE
        flow.data = {"result": result}
        save_flow(conn, flow, ended_at=self.clock.now())
        remember_language(conn, flow.user_id, flow.language)  # for messages sent later
        if clear:  # a successful reset, unlock or change clears the user's counters
            self.throttle.clear_user(conn, flow.subject)
