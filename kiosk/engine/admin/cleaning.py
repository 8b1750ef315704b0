"""Checking what an operator types for a new user or group: each field normalised, or one
line per problem."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from kiosk.engine.admin.errors import Invalid
from kiosk.engine.text import has_control_chars, normalize_phone, normalize_username

GROUP_SEPARATOR = ";"

_USERNAME = re.compile(r"^[\w.@+-]+$")
_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"", "0", "false", "no", "n", "off"}


@dataclass(frozen=True)
class NewUser:
    """A user to add, as typed; `clean_user` gives the normalised form or the problems."""

    username: str
    display_name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    mobile: str = ""
    office: str = ""
    groups: tuple[str, ...] = ()
    is_admin: bool = False

    @property
    def contacts(self) -> dict[str, str]:
        return {k: v for k, v in (("email", self.email), ("mobile", self.mobile),
                                  ("office", self.office)) if v}


def _text(problems: list[str], label: str, value: str, max_len: int) -> str:
    value = value.strip()
    if has_control_chars(value):
        problems.append(f"{label} contains control characters")
    elif len(value) > max_len:
        problems.append(f"{label} is too long ({len(value)} characters, at most {max_len})")
    return value


def clean_username(value: str) -> str:
    """The stored (casefolded) form of a username, or Invalid."""
    name = normalize_username(value)
    if not name:
        raise Invalid("username is empty")
    if has_control_chars(name) or len(name) > 128 or not _USERNAME.match(name):
        raise Invalid(f"username {value.strip()!r} is not valid: use at most 128 letters, "
                      "digits and . _ - @ +")
    return name


def clean_group_name(value: str) -> str:
    name = value.strip()
    if not name:
        raise Invalid("group name is empty")
    if has_control_chars(name) or len(name) > 128 or GROUP_SEPARATOR in name or "," in name:
        raise Invalid(f"group name {name!r} is not valid: at most 128 characters, "
                      "no control characters, no ',' or ';'")
    return name


def clean_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(f"email {value.strip()!r} is not valid: {exc}") from None


def clean_phone(kind: str, value: str) -> str:
    e164 = normalize_phone(value.strip()) if value.strip().startswith("+") else None
    if e164 is None:
        raise Invalid(f"{kind} {value.strip()!r} is not a valid phone number in international "
                      "(E.164) form, e.g. +14255550100")
    return e164


def parse_flag(value: str) -> bool:
    text = value.strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(f"admin {value.strip()!r} is not valid: use true or false (yes/no, 1/0)")


def clean_user(raw: NewUser) -> tuple[NewUser, list[str]]:
    """Normalise every field; returns the clean user and the problems (empty when valid)."""
    problems: list[str] = []

    def attempt(fn: Callable[..., str], *args: str) -> str:
        try:
            return str(fn(*args))
        except Invalid as exc:
            problems.append(exc.message)
            return ""

    username = attempt(clean_username, raw.username)
    display = _text(problems, "display_name", raw.display_name, 200)
    given = _text(problems, "given_name", raw.given_name, 100)
    family = _text(problems, "family_name", raw.family_name, 100)
    email = attempt(clean_email, raw.email) if raw.email.strip() else ""
    mobile = attempt(clean_phone, "mobile", raw.mobile) if raw.mobile.strip() else ""
    office = attempt(clean_phone, "office", raw.office) if raw.office.strip() else ""
    names: list[str] = []
    for group in raw.groups:
        if group.strip():
            name = attempt(clean_group_name, group)
            if name and name not in names:
                names.append(name)
    clean = NewUser(username, display or username, given, family, email, mobile, office,
                    tuple(names), raw.is_admin)
    return clean, problems
