"""The shared vocabulary: the names every layer agrees on, each defined once (no pydantic:
the UI's first frame is drawn before pydantic is loaded).

Every list of method kinds, channels, themes or languages in the code derives from these.
Adding a verification method kind means a member here, its verifier (kiosk/engine/methods/),
its screen and its strings; nothing else enumerates the kinds.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Literal, TypeVar, get_args

E = TypeVar("E", bound=Enum)


class Purpose(StrEnum):
    RESET = "reset"  # forgot the password (also unlocks)
    UNLOCK = "unlock"  # unlock without changing the password
    CHANGE = "change"  # knows the current password
    REGISTER = "register"  # sign in, then register or update methods


class MethodKind(StrEnum):  # a verification method, in display order
    EMAIL = "email"
    MOBILE = "mobile"
    OFFICE = "office"
    QUESTIONS = "questions"
    AUTHENTICATOR = "authenticator"
    PASS = "pass"  # a temporary access pass from the helpdesk: issued, never registered


# the policy file's spelling of the registrable MethodKinds (a Literal, for its validation
# messages); a test checks that both name the same kinds in the same order
MethodName = Literal["email", "mobile", "office", "questions", "authenticator"]


class Step(StrEnum):  # where a flow stands: the UI shows the screen of the step it is told
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


class Channel(StrEnum):  # how a code or a notice reaches a person
    EMAIL = "email"
    TEXT = "text"
    CALL = "call"


# the kinds a person registers, in display order (a pass is issued by the helpdesk instead)
METHOD_KINDS: tuple[str, ...] = tuple(kind.value for kind in MethodKind
                                      if kind is not MethodKind.PASS)
# the kinds whose value is a contact a code is sent to, and of those the telephones
CONTACT_KINDS: tuple[str, ...] = (MethodKind.EMAIL, MethodKind.MOBILE, MethodKind.OFFICE)
PHONE_KINDS: tuple[str, ...] = (MethodKind.MOBILE, MethodKind.OFFICE)

# the UI's colour themes (kiosk/styles/themes.py draws each) and languages (kiosk/locale/)
Theme = Literal["default", "high-contrast", "ansi"]
THEMES: tuple[str, ...] = get_args(Theme)
Language = Literal["en", "de"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
# each language's name in itself, for the welcome screen's choice (never translated)
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"


def member(enum: type[E], value: object) -> E:
    """The member of `enum` whose value is `value` (ValueError when none is): a lookup takes any
    object, while a StrEnum's typed constructor asks for a str (untrusted input is an object)."""
    return enum(value)
