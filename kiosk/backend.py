"""The Backend protocol: everything the UI may ask of the engine, and the types it gets back.

The UI never touches storage; it only calls these methods. `EmbeddedBackend` (kiosk.embedded)
serves them in-process, `RemoteBackend` (kiosk.remote) over the HTTP API, which mirrors them
one to one. All types are pydantic models so the API can serialise them unchanged.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field


class Purpose(StrEnum):
    RESET = "reset"  # forgot the password (also unlocks)
    UNLOCK = "unlock"  # unlock without changing the password
    CHANGE = "change"  # knows the current password
    REGISTER = "register"  # sign in, then register or update methods


class Step(StrEnum):
    SIGN_IN = "sign_in"  # change / register: enter the current password
    CHOOSE_METHOD = "choose_method"  # pick the next verification method
    VERIFY_CODE = "verify_code"  # a code was sent; enter it
    ANSWER_QUESTIONS = "answer_questions"  # a question set was drawn; answer it
    VERIFY_TOTP = "verify_totp"  # enter the authenticator app's code
    NEW_PASSWORD = "new_password"  # identity proven: choose a new password
    UNLOCK = "unlock"  # identity proven: confirm the unlock
    REGISTER = "register"  # signed in: register or update methods
    DONE = "done"  # finished; `result` says what happened
    CANCELLED = "cancelled"


class MethodKind(StrEnum):
    EMAIL = "email"
    MOBILE = "mobile"
    OFFICE = "office"
    QUESTIONS = "questions"
    AUTHENTICATOR = "authenticator"
    PASS = "pass"  # a temporary access pass from the helpdesk: issued, never registered


class Channel(StrEnum):
    EMAIL = "email"
    TEXT = "text"
    CALL = "call"


# the shared vocabulary: every list of method kinds in the code derives from these
# the kinds a person registers, in display order (a pass is issued by the helpdesk instead)
METHOD_KINDS: tuple[str, ...] = tuple(kind.value for kind in MethodKind
                                      if kind is not MethodKind.PASS)
CONTACT_KINDS: tuple[str, ...] = (MethodKind.EMAIL, MethodKind.MOBILE, MethodKind.OFFICE)
PHONE_KINDS: tuple[str, ...] = (MethodKind.MOBILE, MethodKind.OFFICE)


class MethodOption(BaseModel):
    """A registered method as the person sees it: masked, with the channels it can use."""

    kind: MethodKind
    masked: str = ""  # "a•••@c•••.org", "+1 •• •• ••42"; empty for questions / authenticator
    channels: list[Channel] = Field(default_factory=list)
    passed: bool = False  # already used as a gate in this flow


class Challenge(BaseModel):
    """A code that was sent: what the code-entry screen needs."""

    id: str
    method: MethodKind
    channel: Channel
    masked: str
    expires_at: datetime
    resend_at: datetime
    code_length: int


class Question(BaseModel):
    id: str  # "pet", "city", ... for predefined questions; "custom:<n>" for custom ones
    text: str  # English text (predefined) or the user's own text (custom)
    custom: bool = False


class RegistrationStatus(BaseModel):
    """What the signed-in user has registered, and what the policy still asks of them."""

    registered: list[MethodOption] = Field(default_factory=list)
    available: list[MethodKind] = Field(default_factory=list)  # what policy lets them register
    missing: int = 0  # methods still needed before reset is possible
    questions_to_register: int = 3
    custom_questions_allowed: bool = True
    reconfirm_due: bool = False
    # authenticator.required_if_registered: once added, resets need the authenticator app
    authenticator_required: bool = False


class FlowState(BaseModel):
    """The flow's state after a call. The engine holds the truth; this is a view of it."""

    flow_id: str
    purpose: Purpose
    step: Step
    methods: list[MethodOption] = Field(default_factory=list)  # offered at CHOOSE_METHOD
    gates_passed: int = 0
    gates_required: int = 1
    expires_at: datetime
    support_code: str
    challenge: Challenge | None = None
    questions: list[Question] = Field(default_factory=list)
    registration: RegistrationStatus | None = None
    # at DONE: "reset", "reset_unlocked" (the reset also cleared a lock), "unlocked",
    # "not_locked" (an unlock of an account that was not locked: nothing changed),
    # "changed", "registered"
    result: str | None = None


class AuthenticatorEnrollment(BaseModel):
    secret: str  # base32; shown as the text fallback when the QR code does not fit
    uri: str  # otpauth:// URI for the QR code


class PasswordViolation(BaseModel):
    rule: str  # stable id: "too_short", "too_long", "banned", "history", "same_as_current", ...
    message: str  # English reason a person understands (the UI may translate by `rule`)
    params: dict[str, Any] = Field(default_factory=dict)


class PasswordCheck(BaseModel):
    ok: bool
    violations: list[PasswordViolation] = Field(default_factory=list)
    score: int = 0  # zxcvbn 0-4
    rules: list[str] = Field(default_factory=list)  # every rule checked, for the live checklist


class Branding(BaseModel):
    organization: str
    helpdesk: str  # free text: "Call the IT helpdesk on 555-0100"
    helpdesk_url: str = ""
    languages: list[str] = Field(default_factory=lambda: ["en"])
    theme: str = "default"
    demo: bool = False
    password_min_length: int = 12
    password_max_length: int = 256
    code_length: int = 8
    purposes: list[Purpose] = Field(default_factory=lambda: list(Purpose))
    # the organisation's own sign-in forms besides the bare name, for the hint under the field:
    # alice@<domain> and <PREFIX>\alice name the same account
    sign_in_domains: list[str] = Field(default_factory=list)
    sign_in_prefixes: list[str] = Field(default_factory=list)


class OutboxMessage(BaseModel):
    """A message kept by the outbox delivery; only visible in demo mode."""

    id: int
    created_at: datetime
    channel: Channel
    recipient: str
    subject: str
    body: str


class OperatorExitState(BaseModel):
    """The operator exit's limit at this terminal. The engine counts wrong passphrases per
    terminal (across dialogs and restarts); after a few, each next try must wait longer."""

    failures: int = 0  # wrong passphrases counted at this terminal
    retry_after: int = 0  # seconds until a passphrase may be checked again; 0: now
    may_exit: bool = False  # (the answer to operator_exit) the kiosk may close now


class QuestionAnswer(BaseModel):
    question_id: str | None = None  # a predefined question's id
    custom_text: str | None = None  # or the user's own question
    answer: str


# ---------------------------------------------------------------- errors


class KioskError(Exception):
    """Base of every error the UI can show. `code` is stable; `message` is plain English."""

    code = "error"
    status = 400  # the HTTP status the API maps it to

    def __init__(self, message: str = "", *, support_code: str = "", **params: Any) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.support_code = support_code
        self.params = params

    def to_problem(self) -> dict[str, Any]:
        """RFC 9457 problem details body (without secrets)."""
        return {
            "type": f"https://kiosk.example.org/problems/{self.code}",
            "title": self.code.replace("_", " "),
            "status": self.status,
            "detail": self.message,
            "code": self.code,
            "support_code": self.support_code,
            "params": self.params,
        }


class InvalidInput(KioskError):
    code = "invalid_input"
    status = 422


class FlowNotFound(KioskError):
    code = "flow_not_found"
    status = 404


class FlowExpired(KioskError):
    code = "flow_expired"
    status = 410


class StepOutOfOrder(KioskError):
    code = "step_out_of_order"
    status = 409


class WrongCode(KioskError):
    code = "wrong_code"


class CodeExpired(KioskError):
    code = "code_expired"


class ResendTooSoon(KioskError):
    code = "resend_too_soon"
    status = 429


class SlowDown(KioskError):
    """Too many wrong entries at this terminal lately: the next attempt waits (retry_after)."""

    code = "slow_down"
    status = 429


class WrongAnswers(KioskError):
    """Any wrong answer: a new question set was drawn (in `state`)."""

    code = "wrong_answers"


class WrongPassword(KioskError):
    code = "wrong_password"


class Blocked(KioskError):
    code = "blocked"
    status = 403


class NotEligible(KioskError):
    code = "not_eligible"
    status = 403


class NotRegistered(KioskError):
    code = "not_registered"
    status = 403


class PasswordRejected(KioskError):
    code = "password_rejected"
    status = 422


class DeliveryFailed(KioskError):
    code = "delivery_failed"
    status = 502


class NotAvailable(KioskError):
    code = "not_available"
    status = 404


class ServiceUnavailable(KioskError):
    code = "service_unavailable"
    status = 503


ERRORS: dict[str, type[KioskError]] = {
    cls.code: cls
    for cls in (
        KioskError, InvalidInput, FlowNotFound, FlowExpired, StepOutOfOrder, WrongCode,
        CodeExpired, ResendTooSoon, SlowDown, WrongAnswers, WrongPassword, Blocked, NotEligible,
        NotRegistered, PasswordRejected, DeliveryFailed, NotAvailable, ServiceUnavailable,
    )
}


# ---------------------------------------------------------------- the protocol


@runtime_checkable
class Backend(Protocol):
    """What the UI calls. Every call checks the flow's step on the engine side."""

    async def branding(self) -> Branding: ...

    async def start(self, purpose: Purpose, username: str) -> FlowState:
        """Identify the user; raises NotEligible / NotRegistered / Blocked."""

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
