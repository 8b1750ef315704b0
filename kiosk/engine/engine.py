"""The Engine: one object holding its collaborators (a Core) and the flow's stages.

`engine.session(terminal)` serves the Backend protocol's calls at one terminal
(kiosk/backend/protocol.py), one line each: the work is in kiosk/engine/stages/.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as Database

from kiosk.backend import (
    AuthenticatorEnrollment,
    Branding,
    FlowState,
    InvalidInput,
    KioskError,
    NotAvailable,
    OperatorExitState,
    OutboxMessage,
    PasswordCheck,
    Purpose,
    Question,
)
from kiosk.engine import accounts, registry
from kiosk.engine.clock import Clock
from kiosk.engine.config import Policy, load_policy
from kiosk.engine.core import Core
from kiosk.engine.crypto import Hasher
from kiosk.engine.delivery_base import Delivery
from kiosk.engine.directory import Directory, User
from kiosk.engine.notify import Notifier
from kiosk.engine.operator import OperatorExits
from kiosk.engine.outbox import OutboxDelivery
from kiosk.engine.passes import AccessPasses
from kiosk.engine.passwords import PasswordPolicy
from kiosk.engine.reload import PolicyWatch
from kiosk.engine.stages.complete import Complete
from kiosk.engine.stages.identify import Identify
from kiosk.engine.stages.prove import Prove
from kiosk.engine.stages.register import Register
from kiosk.engine.throttle import Throttler


def _of_core(name: str) -> Any:
    """A collaborator of the Core, read (and, in tests, replaced) through the Engine."""
    return property(lambda self: getattr(self.core, name),
                    lambda self, value: setattr(self.core, name, value))


class Engine:
    """Headless SSPR engine. Construct with a validated Policy (see kiosk.engine.config)."""

    # the collaborators, for the admin core, the API and tests
    policy: Policy = _of_core("policy")
    db: Database = _of_core("db")
    clock: Clock = _of_core("clock")
    key: bytes = _of_core("key")
    hasher: Hasher = _of_core("hasher")
    directory: Directory = _of_core("directory")
    throttle: Throttler = _of_core("throttle")
    outbox: OutboxDelivery = _of_core("outbox")
    delivery: Delivery = _of_core("delivery")
    passwords: PasswordPolicy = _of_core("passwords")
    notifier: Notifier = _of_core("notifier")

    def __init__(self, policy: Policy, db: Database | None = None, *,
                 clock: Clock | None = None, delivery: Delivery | None = None,
                 directory: Directory | None = None, run_migrations: bool = True) -> None:
        self._stages(Core(policy, db, clock=clock, delivery=delivery, directory=directory,
                          run_migrations=run_migrations))

    def _stages(self, core: Core) -> None:
        # a call in flight keeps the stages it started with: each is consistent with its core
        self.core = core
        self.identify = Identify(core)
        self.prove = Prove(core)
        self.complete = Complete(core, self.prove)
        self.register = Register(core, self.prove)
        self.passes = AccessPasses(core, self.prove)

    # ------------------------------------------------------------ a changed policy file
    policy_watch: PolicyWatch | None = None

    def use_policy(self, policy: Policy) -> None:
        """Take a new policy between calls; flows live in the database, so no visit is lost."""
        self._stages(self.core.with_policy(policy))

    def watch_policy(self, path: str | Path, load: Callable[[], Policy] | None = None) -> None:
        """Reload the policy file when it changed, at the start of each new visit."""
        self.policy_watch = PolicyWatch(lambda: self.policy, self.use_policy, path, load)

    # ------------------------------------------------------------ read-only
    def branding(self) -> Branding:
        return self.core.branding()

    def outbox_messages(self, limit: int = 20) -> list[OutboxMessage]:
        if not self.policy.demo:
            raise NotAvailable("the outbox is shown in demo mode only")
        if not isinstance(limit, int) or not 1 <= limit <= 200:
            raise InvalidInput("limit must be 1-200", field="limit")
        return [OutboxMessage(**{k: row[k] for k in OutboxMessage.model_fields})
                for row in self.outbox.latest(limit)]

    def eligibility(self, purpose: Purpose, user: User, groups: set[str],
                    reg: registry.Registered, code: str) -> KioskError | None:
        return accounts.eligibility(self.policy, purpose, user, groups, reg, code)

    def usable_methods(self, user: User | None, reg: registry.Registered) -> list[str]:
        return accounts.usable_methods(self.policy, user, reg)

    def session(self, terminal: str) -> TerminalSession:
        """The flow calls at one terminal (`console:local`, `ssh:<host>`, `api:<key id>`)."""
        return TerminalSession(self, terminal)


class TerminalSession:
    """The Backend protocol's calls at one terminal, served synchronously by the engine.

    The terminal identity goes into every call (hence into every audit event and throttle
    key) and is bound here once; the adapters and the API call these by the operation table's
    names (kiosk/backend/operations.py). Every call checks the flow's step before doing
    anything, so no client can skip a step; the work is in kiosk/engine/stages/.
    """

    def __init__(self, engine: Engine, terminal: str) -> None:
        self.engine = engine
        self.terminal = terminal

    def branding(self) -> Branding:
        return self.engine.branding()

    def outbox(self, limit: int = 20) -> list[OutboxMessage]:
        return self.engine.outbox_messages(limit)

    # ------------------------------------------------------------ identify
    def start(self, purpose: object, username: object, language: object = None) -> FlowState:
        if self.engine.policy_watch is not None:  # a new visit: is the policy file edited?
            self.engine.policy_watch.check()
        return self.engine.identify.start(purpose, username, self.terminal, language)

    def cancel(self, flow_id: object) -> FlowState:
        return self.engine.identify.cancel(flow_id, self.terminal)

    # ------------------------------------------------------------ prove
    def send_code(self, flow_id: object, method: object, channel: object) -> FlowState:
        return self.engine.prove.send_code(flow_id, self.terminal, method, channel)

    def verify_code(self, flow_id: object, challenge_id: object, code: object) -> FlowState:
        return self.engine.prove.verify_code(flow_id, self.terminal, challenge_id, code)

    def questions(self, flow_id: object) -> FlowState:
        return self.engine.prove.questions(flow_id, self.terminal)

    def answer(self, flow_id: object, answers: object) -> FlowState:
        return self.engine.prove.answer(flow_id, self.terminal, answers)

    def verify_totp(self, flow_id: object, code: object) -> FlowState:
        return self.engine.prove.verify_totp(flow_id, self.terminal, code)

    def verify_pass(self, flow_id: object, access_pass: object) -> FlowState:
        return self.engine.passes.verify(flow_id, self.terminal, access_pass)

    # ------------------------------------------------------------ complete
    def sign_in(self, flow_id: object, password: object) -> FlowState:
        return self.engine.complete.sign_in(flow_id, self.terminal, password)

    def check_password(self, flow_id: object, password: object) -> PasswordCheck:
        return self.engine.complete.check_password(flow_id, self.terminal, password)

    def set_password(self, flow_id: object, password: object) -> FlowState:
        return self.engine.complete.set_password(flow_id, self.terminal, password)

    def unlock(self, flow_id: object) -> FlowState:
        return self.engine.complete.unlock(flow_id, self.terminal)

    # ------------------------------------------------------------ register
    def question_pool(self, flow_id: object) -> list[Question]:
        return self.engine.register.question_pool(flow_id, self.terminal)

    def add_email(self, flow_id: object, address: object) -> FlowState:
        return self.engine.register.add_email(flow_id, self.terminal, address)

    def add_phone(self, flow_id: object, kind: object, number: object,
                  channel: object) -> FlowState:
        return self.engine.register.add_phone(flow_id, self.terminal, kind, number, channel)

    def confirm_contact(self, flow_id: object, challenge_id: object, code: object) -> FlowState:
        return self.engine.register.confirm_contact(flow_id, self.terminal, challenge_id, code)

    def set_questions(self, flow_id: object, entries: object) -> FlowState:
        return self.engine.register.set_questions(flow_id, self.terminal, entries)

    def begin_authenticator(self, flow_id: object) -> AuthenticatorEnrollment:
        return self.engine.register.begin_authenticator(flow_id, self.terminal)

    def confirm_authenticator(self, flow_id: object, code: object) -> FlowState:
        return self.engine.register.confirm_authenticator(flow_id, self.terminal, code)

    def finish_registration(self, flow_id: object) -> FlowState:
        return self.engine.register.finish_registration(flow_id, self.terminal)

    # ------------------------------------------------------------ the kiosk's operator exit
    def operator_gate(self) -> OperatorExitState:
        """This terminal's count, wait and audit trail (kiosk/engine/operator.py)."""
        return OperatorExits(self.engine.core).gate(self.terminal)

    def operator_exit(self, ok: object) -> OperatorExitState:
        return OperatorExits(self.engine.core).record(self.terminal, ok)


def open_engine(policy_file: str | Path | None = None, **overrides: object) -> Engine:
    policy: Policy = load_policy(policy_file, **overrides)
    return Engine(policy)
