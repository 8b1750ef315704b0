"""Wire details of the two directory flavours: the ppolicy control, Active Directory's
password encoding and policy hints, object GUIDs, and how refusals read."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from ldap3.utils.conv import escape_filter_chars

# ---------------------------------------------------------------- OpenLDAP ppolicy
# draft-behera-ldap-password-policy: request control with no value
PPOLICY_OID = "1.3.6.1.4.1.42.2.27.8.5.1"
PPOLICY_REQUEST = (PPOLICY_OID, False, None)
# pwdAccountLockedTime with this value: locked by an administrator until unlocked by one
ADMIN_LOCK = b"000001010000Z"

PPOLICY_ERRORS: dict[int, tuple[str, str]] = {
    0: ("passwordExpired", "the password has expired"),
    1: ("accountLocked", "the account is locked"),
    2: ("changeAfterReset", "the password must be changed after a reset"),
    3: ("passwordModNotAllowed", "the directory does not allow this password to be changed"),
    4: ("mustSupplyOldPassword", "the directory wants the old password as well"),
    5: ("insufficientPasswordQuality", "the directory's quality rules refuse it"),
    6: ("passwordTooShort", "the directory needs a longer password"),
    7: ("passwordTooYoung", "the password was changed too recently to change it again"),
    8: ("passwordInHistory", "the directory refuses a password used before"),
    9: ("passwordTooLong", "the directory needs a shorter password"),
}


def _tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """One BER tag-length-value at `pos`: (tag, value, next position)."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:  # long form
        count = length & 0x7F
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    return tag, data[pos:pos + length], pos + length


def ppolicy_error(result: dict[str, Any] | None) -> int | None:
    """The `error` of a PasswordPolicyResponseValue in an LDAP result, if there is one.

    PasswordPolicyResponseValue ::= SEQUENCE {
        warning [0] CHOICE { timeBeforeExpiration [0] INTEGER, graceAuthNsRemaining [1] ... }
                    OPTIONAL,
        error   [1] ENUMERATED { passwordExpired (0), ... } OPTIONAL }"""
    control = ((result or {}).get("controls") or {}).get(PPOLICY_OID)
    value = control.get("value") if isinstance(control, dict) else None
    if not value:
        return None
    try:
        tag, body, _ = _tlv(value, 0)
        if tag != 0x30:
            return None
        pos = 0
        while pos < len(body):
            tag, inner, pos = _tlv(body, pos)
            if tag == 0x81:
                return int.from_bytes(inner, "big")
    except IndexError:
        return None
    return None


def generalized_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


# ---------------------------------------------------------------- Active Directory
# LDAP_SERVER_POLICY_HINTS_OID (Windows Server 2012 R2 and later): a reset by an operator honours
# password history like a change by the user. Value: SEQUENCE { Flags INTEGER (1) }.
AD_POLICY_HINTS = ("1.2.840.113556.1.4.2239", False, b"\x30\x03\x02\x01\x01")
AD_MATCHING_RULE_IN_CHAIN = "1.2.840.113556.1.4.1941"
AD_ACCOUNTDISABLE = 0x2
# msDS-User-Account-Control-Computed: the DC's own verdict on the lock, which honours the
# lockout duration (its domain's or a fine-grained policy's) where lockoutTime alone does not
AD_COMPUTED_UAC = "msDS-User-Account-Control-Computed"
AD_LOCKOUT = 0x10
_AD_RESTRICTION = re.compile(r"0000052D", re.IGNORECASE)
# what Samba says after "check_password_restrictions:" (Windows sends no detail: the reason
# stays the generic passwordRestriction); reasons named as the ppolicy ones above
_AD_REASONS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"too short\D*(\d+)?", re.I), "passwordTooShort",
     "the directory needs a longer password"),
    (re.compile(r"too long\D*(\d+)?", re.I), "passwordTooLong",
     "the directory needs a shorter password"),
    (re.compile(r"complexity", re.I), "insufficientPasswordQuality",
     "the directory wants three of: capitals, small letters, digits, symbols; and not "
     "the account or display name"),
    (re.compile(r"history|already used|previous password", re.I), "passwordInHistory",
     "the directory refuses a password used before"),
    (re.compile(r"too young|minimum password age", re.I), "passwordTooYoung",
     "the password was changed too recently to change it again"),
]
AD_GENERIC_REFUSAL = ("the directory's password policy refuses it (length, complexity, "
                      "history or minimum age)")


def ad_password(password: str) -> bytes:
    """The value of `unicodePwd`: the password in double quotes, UTF-16LE encoded."""
    return f'"{password}"'.encode("utf-16-le")


def guid_text(raw: bytes) -> str:
    """objectGUID (16 bytes, little-endian fields) as the usual text form."""
    return str(uuid.UUID(bytes_le=raw))


def guid_filter_value(text: str) -> str:
    """The objectGUID assertion value for a filter: every byte escaped."""
    return "".join(f"\\{b:02x}" for b in uuid.UUID(text).bytes_le)


def ad_refusal(message: str) -> tuple[str, str, dict[str, int]] | None:
    """(reason, text, params) when AD refused a password for its policy
    (ERROR_PASSWORD_RESTRICTION, 0x52D: length, complexity, history or minimum age); the
    domain's or a fine-grained policy's (PSO) alike."""
    if not _AD_RESTRICTION.search(message or ""):
        return None
    for pattern, reason, text in _AD_REASONS:
        found = pattern.search(message)
        if found:
            number = found.group(1) if pattern.groups else None
            params = {"min_length" if reason == "passwordTooShort" else "max_length":
                      int(number)} if number else {}
            return reason, text + (f" ({number} characters)" if number else ""), params
    return "passwordRestriction", AD_GENERIC_REFUSAL, {}


def id_filter(attribute: str, value: str) -> str:
    if attribute.lower() == "objectguid":
        return f"({attribute}={guid_filter_value(value)})"
    return f"({attribute}={escape_filter_chars(value)})"
