"""The Backend protocol: everything the UI may ask of the engine.

The UI never touches storage; it only calls these methods. `EmbeddedBackend`
(kiosk.adapters.embedded) serves them in-process, `RemoteBackend` (kiosk.adapters.remote) over
the HTTP API. Both are built from the operation table (kiosk.backend.operations), which names
each call's route, so the two serve the same calls one to one.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from kiosk.backend.types import (
    AuthenticatorEnrollment,
    Branding,
    FlowState,
    OperatorExitState,
    OutboxMessage,
    PasswordCheck,
    Question,
    QuestionAnswer,
)
from kiosk.backend.vocabulary import Channel, MethodKind, Purpose


@runtime_checkable
class Backend(Protocol):
    """What the UI calls. Every call checks the flow's step on the engine side."""

    async def branding(self) -> Branding: ...

    async def start(self, purpose: Purpose, username: str,
                    language: str | None = None) -> FlowState:
        """Identify the user; raises NotEligible / NotRegistered / Blocked. `language`: the
        visitor's, for the flow's codes and notices (None: the organisation's default)."""

    async def send_code(self, flow_id: str, method: MethodKind, channel: Channel) -> FlowState: ...

    async def verify_code(self, flow_id: str, challenge_id: str, code: str) -> FlowState: ...

    async def questions(self, flow_id: str) -> FlowState:
        """Draw (or return the current) question set."""

    async def answer(self, flow_id: str, answers: list[str]) -> FlowState: ...

    async def verify_totp(self, flow_id: str, code: str) -> FlowState: ...

    async def verify_pass(self, flow_id: str, access_pass: str) -> FlowState:
        """A temporary access pass from the helpdesk: one proof (see kiosk.engine.passes).
        Offered to everybody when the policy allows passes; a wrong one counts like a wrong
        code, and an account without a pass answers the same."""

    async def check_password(self, flow_id: str, password: str) -> PasswordCheck: ...

    async def set_password(self, flow_id: str, password: str) -> FlowState: ...

    async def unlock(self, flow_id: str) -> FlowState: ...

    async def cancel(self, flow_id: str) -> FlowState: ...

    # registration (purpose=register, after sign_in); sign_in also serves purpose=change
    async def sign_in(self, flow_id: str, password: str) -> FlowState: ...

    async def question_pool(self, flow_id: str) -> list[Question]: ...

    async def add_email(self, flow_id: str, address: str) -> FlowState: ...

    async def add_phone(
        self, flow_id: str, kind: MethodKind, number: str, channel: Channel
    ) -> FlowState: ...

    async def confirm_contact(self, flow_id: str, challenge_id: str, code: str) -> FlowState: ...

    async def set_questions(self, flow_id: str, entries: list[QuestionAnswer]) -> FlowState: ...

    async def begin_authenticator(self, flow_id: str) -> AuthenticatorEnrollment: ...

    async def confirm_authenticator(self, flow_id: str, code: str) -> FlowState: ...

    async def finish_registration(self, flow_id: str) -> FlowState: ...

    # the operator exit: the UI checks the passphrase (its hash is the kiosk's own), the
    # engine keeps this terminal's count, its wait and the audit trail
    async def operator_gate(self) -> OperatorExitState:
        """Whether a passphrase may be checked now (`retry_after` 0) or not yet."""

    async def operator_exit(self, ok: bool) -> OperatorExitState:
        """Record one passphrase tried (`ok`: it was right); the kiosk closes only when the
        answer's `may_exit` is true."""

    # demo / training mode only
    async def outbox(self, limit: int = 20) -> list[OutboxMessage]:
        """Messages the outbox delivery kept; raises NotAvailable outside demo mode."""

    async def close(self) -> None: ...
