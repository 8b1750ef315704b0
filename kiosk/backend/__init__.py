"""The contract between the kiosk's UI and its engine: `from kiosk.backend import X`.

    vocabulary.py   the shared names: purposes, method kinds, channels, themes, languages
    types.py        what the calls answer (pydantic models the API serialises unchanged)
    errors.py       every error the UI can show, by stable code
    protocol.py     the Backend protocol: every call the UI may make
    bodies.py       the calls' JSON request bodies over HTTP
    operations.py   each call once: name, verb, path, body, result (adapters and API built from it)
    branding.py     what the welcome screen is drawn from (a dataclass: no pydantic)

Importing this package loads no pydantic: the UI draws its first frame before that (start-up
time, bench/startup.py). The pydantic models of types.py are loaded on first use of a name.
"""

from typing import TYPE_CHECKING, Any

from kiosk.backend.branding import Branding
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
from kiosk.backend.protocol import CALLS, Backend, as_backend
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
    Step,
    Theme,
)

if TYPE_CHECKING:  # loaded on first use (__getattr__ below); named here for the type checker
    from kiosk.backend.types import (
        AuthenticatorEnrollment,
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
    )

__all__ = [
    "CALLS", "CONTACT_KINDS", "DEFAULT_LANGUAGE", "ERRORS", "LANGUAGES", "LANGUAGE_NAMES",
    "METHOD_KINDS", "PHONE_KINDS", "THEMES", "AuthenticatorEnrollment", "Backend", "Blocked",
    "Branding", "Challenge", "Channel", "CodeExpired", "DeliveryFailed", "FlowExpired",
    "FlowNotFound", "FlowState", "InvalidInput", "KioskError", "Language", "MethodKind",
    "MethodName", "MethodOption", "NotAvailable", "NotEligible", "NotRegistered",
    "OperatorExitState", "OutboxMessage", "PasswordCheck", "PasswordRejected",
    "PasswordViolation", "Purpose", "Question", "QuestionAnswer", "RegistrationStatus",
    "ResendTooSoon", "ServiceUnavailable", "SlowDown", "Step", "StepOutOfOrder", "Theme",
    "WrongAnswers", "WrongCode", "WrongPassword", "as_backend",
]

# the pydantic models of kiosk.backend.types: pydantic and these models take about half as long
# to import as a bare Textual app takes to start, and the first frame needs none of them, so
# they load when one of these names is first asked for
_MODELS = frozenset({
    "AuthenticatorEnrollment", "Challenge", "FlowState", "MethodOption", "OperatorExitState",
    "OutboxMessage", "PasswordCheck", "PasswordViolation", "Question", "QuestionAnswer",
    "RegistrationStatus",
})


if not TYPE_CHECKING:  # for the type checker, the names are the imports above: a typo is an error

    def __getattr__(name: str) -> Any:
        """PEP 562: `from kiosk.backend import FlowState` imports kiosk.backend.types then."""
        if name in _MODELS:
            from kiosk.backend import types

            value = getattr(types, name)
            globals()[name] = value  # asked once
            return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*globals(), *_MODELS})
