"""The contract between the kiosk's UI and its engine: `from kiosk.backend import X`.

    vocabulary.py   the shared names: purposes, method kinds, channels, themes, languages
    types.py        what the calls answer (pydantic models the API serialises unchanged)
    errors.py       every error the UI can show, by stable code
    protocol.py     the Backend protocol: every call the UI may make
    bodies.py       the calls' JSON request bodies over HTTP
    operations.py   each call once: name, verb, path, body, result (adapters and API built from it)
"""

from kiosk.backend.errors import (
    ERRORS,
    Blocked,
    CodeExpired,
    DeliveryFailed,
    FlowExpired,
    FlowNotFound,
    InvalidInput,
    KioskError,
    NotAvailable,
    NotEligible,
    NotRegistered,
    PasswordRejected,
    ResendTooSoon,
    ServiceUnavailable,
    SlowDown,
    StepOutOfOrder,
    WrongAnswers,
    WrongCode,
    WrongPassword,
)
from kiosk.backend.protocol import Backend
from kiosk.backend.types import (
    AuthenticatorEnrollment,
    Branding,
    Challenge,
    FlowState,
    MethodOption,
    OperatorExitState,
    OutboxMessage,
    PasswordCheck,
    PasswordViolation,
    Question,
    QuestionAnswer,
    RegistrationStatus,
    Step,
)
from kiosk.backend.vocabulary import (
    CONTACT_KINDS,
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    METHOD_KINDS,
    PHONE_KINDS,
    THEMES,
    Channel,
    Language,
    MethodKind,
    MethodName,
    Purpose,
    Theme,
)

__all__ = [
    "CONTACT_KINDS", "DEFAULT_LANGUAGE", "ERRORS", "LANGUAGES", "LANGUAGE_NAMES", "METHOD_KINDS",
    "PHONE_KINDS", "THEMES", "AuthenticatorEnrollment", "Backend", "Blocked", "Branding",
    "Challenge", "Channel", "CodeExpired", "DeliveryFailed", "FlowExpired", "FlowNotFound",
    "FlowState", "InvalidInput", "KioskError", "Language", "MethodKind", "MethodName",
    "MethodOption", "NotAvailable", "NotEligible", "NotRegistered", "OperatorExitState",
    "OutboxMessage", "PasswordCheck", "PasswordRejected", "PasswordViolation", "Purpose",
    "Question", "QuestionAnswer", "RegistrationStatus", "ResendTooSoon", "ServiceUnavailable",
    "SlowDown", "Step", "StepOutOfOrder", "Theme", "WrongAnswers", "WrongCode", "WrongPassword",
]
