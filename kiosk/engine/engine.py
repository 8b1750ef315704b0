"""The Engine: one object holding its collaborators (a Core) and the flow's stages.

Every public call takes the terminal identity and checks the flow's step before doing
anything, so no client can skip a step. The operations below are the Backend protocol's
(kiosk/backend.py), one line each: the work is in kiosk/engine/stages/.
"""

from __future__ import annotations

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
        self.core = core = Core(policy, db, clock=clock, delivery=delivery,
                                directory=directory, run_migrations=run_migrations)
        self.identify = Identify(core)
        self.prove = Prove(core)
        self.complete = Complete(core, self.prove)
        self.register = Register(core, self.prove)
        self.passes = AccessPasses(core, self.prove)

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

    # ------------------------------------------------------------ identify
    def start(self, purpose: object, username: object, terminal: str) -> FlowState:
        return self.identify.start(purpose, username, terminal)

    def cancel(self, flow_id: object, terminal: str) -> FlowState:
        return self.identify.cancel(flow_id, terminal)

    # ------------------------------------------------------------ prove
    def send_code(self, flow_id: object, terminal: str, method: object,
                  channel: object) -> FlowState:
        return self.prove.send_code(flow_id, terminal, method, channel)

    def verify_code(self, flow_id: object, terminal: str, challenge_id: object,
                    code: object) -> FlowState:
        return self.prove.verify_code(flow_id, terminal, challenge_id, code)

    def questions(self, flow_id: object, terminal: str) -> FlowState:
        return self.prove.questions(flow_id, terminal)

    def answer(self, flow_id: object, terminal: str, answers: object) -> FlowState:
        return self.prove.answer(flow_id, terminal, answers)

    def verify_totp(self, flow_id: object, terminal: str, code: object) -> FlowState:
        return self.prove.verify_totp(flow_id, terminal, code)

    def verify_pass(self, flow_id: object, terminal: str, access_pass: object) -> FlowState:
        return self.passes.verify(flow_id, terminal, access_pass)

    # ------------------------------------------------------------ complete
    def sign_in(self, flow_id: object, terminal: str, password: object) -> FlowState:
        return self.complete.sign_in(flow_id, terminal, password)

    def check_password(self, flow_id: object, terminal: str, password: object) -> PasswordCheck:
        return self.complete.check_password(flow_id, terminal, password)

    def set_password(self, flow_id: object, terminal: str, password: object) -> FlowState:
        return self.complete.set_password(flow_id, terminal, password)

    def unlock(self, flow_id: object, terminal: str) -> FlowState:
        return self.complete.unlock(flow_id, terminal)

    # ------------------------------------------------------------ register
    def question_pool(self, flow_id: object, terminal: str) -> list[Question]:
        return self.register.question_pool(flow_id, terminal)

    def add_email(self, flow_id: object, terminal: str, address: object) -> FlowState:
        return self.register.add_email(flow_id, terminal, address)

    def add_phone(self, flow_id: object, terminal: str, kind: object, number: object,
                  channel: object) -> FlowState:
        return self.register.add_phone(flow_id, terminal, kind, number, channel)

    def confirm_contact(self, flow_id: object, terminal: str, challenge_id: object,
                        code: object) -> FlowState:
        return self.register.confirm_contact(flow_id, terminal, challenge_id, code)

    def set_questions(self, flow_id: object, terminal: str, entries: object) -> FlowState:
        return self.register.set_questions(flow_id, terminal, entries)

    def begin_authenticator(self, flow_id: object, terminal: str) -> AuthenticatorEnrollment:
        return self.register.begin_authenticator(flow_id, terminal)

    def confirm_authenticator(self, flow_id: object, terminal: str, code: object) -> FlowState:
        return self.register.confirm_authenticator(flow_id, terminal, code)

    def finish_registration(self, flow_id: object, terminal: str) -> FlowState:
        return self.register.finish_registration(flow_id, terminal)


    # ------------------------------------------------------------ the kiosk's operator exit
    def operator_gate(self, terminal: str) -> OperatorExitState:
        """This terminal's count, wait and audit trail (kiosk/engine/operator.py)."""
        return OperatorExits(self.core).gate(terminal)

    def operator_exit(self, terminal: str, ok: object) -> OperatorExitState:
        return OperatorExits(self.core).record(terminal, ok)


def open_engine(policy_file: str | Path | None = None, **overrides: object) -> Engine:
    policy: Policy = load_policy(policy_file, **overrides)
    return Engine(policy)
