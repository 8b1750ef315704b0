"""The temporary access pass: issued by the helpdesk after checking identity in person.

Nobody registers it, so it is "registered" for every account alike when the policy allows
passes: the option shows the same to a user with a pass, one without and a decoy (issue #10's
rule). Whether a pass exists is learnt only by entering the right one. Issuing, checking and
using passes is kiosk.engine.passes; this module holds the pass's text rules and its hash.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from kiosk.backend import Channel, InvalidInput, MethodKind
from kiosk.engine.config import Policy
from kiosk.engine.crypto import keyed_hash
from kiosk.engine.registry import Registered

# no 0/O, 1/I/L: read aloud and typed from a slip of paper without doubt
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MIN_LENGTH, MAX_LENGTH = 8, 48  # Entra's limits


@dataclass
class AccessPassMethod:
    kind: str = MethodKind.PASS
    channels: list[Channel] = field(default_factory=list)

    def registered(self, reg: Registered, policy: Policy, *, before_proof: bool) -> bool:
        return policy.passes.enabled

    def mask(self, value: str) -> str:
        return ""


def new_pass(length: int) -> str:
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise InvalidInput(f"a pass has {MIN_LENGTH}-{MAX_LENGTH} characters", field="length")
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def clean_pass(value: object) -> str:
    """What a person typed, as the pass is kept: spaces and dashes dropped, upper case."""
    if not isinstance(value, str) or len(value) > 2 * MAX_LENGTH:
        raise InvalidInput("the pass must be text", field="pass")
    text = "".join(ch for ch in value if ch not in " -\u00a0\t").upper()
    if not MIN_LENGTH <= len(text) <= MAX_LENGTH or not text.isascii() or not text.isalnum():
        raise InvalidInput(f"a pass has {MIN_LENGTH}-{MAX_LENGTH} letters and digits",
                           field="pass")
    return text


def pass_hash(key: bytes, account_id: int, text: str) -> str:
    """HMAC under the server key (kept outside the database), bound to the account: a copy of
    the database gives nothing to guess a short pass against."""
    return keyed_hash(key, "access-pass", str(account_id), text)
