"""The authenticator app (TOTP, RFC 6238; see kiosk.engine.totp)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime

from kiosk.backend import Channel, MethodKind
from kiosk.engine import totp
from kiosk.engine.config import Policy
from kiosk.engine.crypto import keyed_hash
from kiosk.engine.registry import Registered


@dataclass
class AuthenticatorMethod:
    kind: str = MethodKind.AUTHENTICATOR
    channels: list[Channel] = field(default_factory=list)

    def registered(self, reg: Registered, policy: Policy, *, before_proof: bool) -> bool:
        return bool(reg.totp_secret)

    def mask(self, value: str) -> str:
        return ""


def decoy_secret(key: bytes, username: str) -> str:
    """A secret nobody knows: a decoy's app behaves like a real one, never matching."""
    raw = bytes.fromhex(keyed_hash(key, "decoy-totp", username))[:20]
    return base64.b32encode(raw).decode()


def repeat_key(now: datetime, digits: str) -> str:
    """The repeat key of a wrong code: the code within its 30 s step, so the same wrong code
    in a new step is a new guess and counts."""
    return f"{totp.current_step(now)}:{digits}"
