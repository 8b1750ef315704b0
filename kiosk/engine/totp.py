"""TOTP (RFC 6238) with pyotp: SHA1, 6 digits, 30 s, ±1 step; the caller refuses replays."""

from __future__ import annotations

from datetime import datetime

import pyotp

from kiosk.engine.crypto import same
from kiosk.totp_code import DIGITS, INTERVAL, Totp, code_at

__all__ = ["DIGITS", "INTERVAL", "code_at", "current_step", "matching_step", "new_secret",
           "provisioning_uri"]

WINDOW = 1  # steps either side of now


def _totp(secret: str) -> Totp:
    return Totp(secret, digits=DIGITS, interval=INTERVAL)


def new_secret() -> str:
    return pyotp.random_base32(length=32)  # 32 base32 chars = 160 bits


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return _totp(secret).provisioning_uri(
        name=account, issuer_name=issuer)


def matching_step(secret: str, code: str, when: datetime) -> int | None:
    """The time step the code belongs to (within ±WINDOW), or None. Checks every candidate so
    the time taken does not depend on which one matched."""
    totp = _totp(secret)
    now_step = totp.timecode(when)
    found: int | None = None
    for offset in range(-WINDOW, WINDOW + 1):
        step = now_step + offset
        if same(totp.generate_otp(step), code) and found is None:
            found = step
    return found


def current_step(when: datetime) -> int:
    """The 30 s step `when` falls in (the window a repeated wrong code counts once in)."""
    return int(when.timestamp()) // INTERVAL
