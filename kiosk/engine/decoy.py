"""Decoys for unknown usernames: plausible, stable masked methods derived from a keyed hash.

The same name always shows the same methods, so probing twice reveals nothing, and nobody
without the server key can tell a decoy from a real account by its masks.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.engine.crypto import keyed_hash
from kiosk.engine.questions import PREDEFINED
from kiosk.engine.text import MASK

_DOMAIN_LETTERS = "abcdefghijklmnoprstw"
_TLDS = ("com", "org", "net", "de", "co.uk")
_COUNTRIES = ("1", "1", "44", "49", "33")


@dataclass(frozen=True)
class DecoyProfile:
    contacts: dict[str, str]  # kind -> masked value
    question_ids: list[str]
    has_authenticator: bool


def decoy_profile(key: bytes, username: str, offered: list[str], questions_to_register: int,
                  required: int = 1) -> DecoyProfile:
    digest = bytes.fromhex(keyed_hash(key, "decoy", username))
    first = (username[:1] or "a").lower()
    contacts: dict[str, str] = {}
    if "email" in offered:
        tld = _TLDS[digest[0] % len(_TLDS)]
        contacts["email"] = f"{first}{MASK}@{_DOMAIN_LETTERS[digest[1] % 20]}{MASK}.{tld}"
    if "mobile" in offered and digest[2] % 4 != 0:  # most people register a mobile
        cc = _COUNTRIES[digest[3] % len(_COUNTRIES)]
        contacts["mobile"] = f"+{cc} •• •• ••{digest[4] % 100:02d}"
    if "office" in offered and digest[5] % 5 == 0:
        cc = _COUNTRIES[digest[6] % len(_COUNTRIES)]
        contacts["office"] = f"+{cc} •• •• ••{digest[7] % 100:02d}"
    pool = sorted(PREDEFINED)
    question_ids: list[str] = []
    if "questions" in offered and digest[8] % 3 != 0:
        index = digest[9]
        while len(question_ids) < questions_to_register:
            candidate = pool[index % len(pool)]
            if candidate not in question_ids:
                question_ids.append(candidate)
            index += 7
    has_auth = "authenticator" in offered and digest[10] % 6 == 0
    # a decoy always looks like an account that can go on (as many methods as required)
    spare = [k for k in ("email", "mobile", "office") if k in offered and k not in contacts]
    while len(contacts) + bool(question_ids) + has_auth < required and spare:
        kind = spare.pop(0)
        contacts[kind] = (f"{first}{MASK}@{_DOMAIN_LETTERS[digest[1] % 20]}{MASK}.com"
                          if kind == "email" else f"+1 •• •• ••{digest[11] % 100:02d}")
    if not contacts and not question_ids and not has_auth:
        contacts["email"] = f"{first}{MASK}@{_DOMAIN_LETTERS[digest[1] % 20]}{MASK}.com"
    return DecoyProfile(contacts, question_ids, has_auth)
