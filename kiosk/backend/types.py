"""The types the Backend protocol answers with: pydantic models, so the API serialises them
unchanged. Two are defined without pydantic, for the UI's first frame, and named here too:
`Step` (kiosk.backend.vocabulary) and `Branding` (kiosk.backend.branding)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from kiosk.backend.branding import Branding
from kiosk.backend.vocabulary import Channel, MethodKind, Purpose, Step

__all__ = ["AuthenticatorEnrollment", "Branding", "Challenge", "FlowState", "MethodOption",
           "OperatorExitState", "OutboxMessage", "PasswordCheck", "PasswordViolation", "Question",
           "QuestionAnswer", "RegistrationStatus", "Step"]


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

