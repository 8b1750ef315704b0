"""TOTP (RFC 6238) with pyotp: SHA1, 6 digits, 30 s, ±1 step; the caller refuses replays."""

from __future__ import annotations

from datetime import datetime

import pyotp

from kiosk.engine.crypto import same

DIGITS = 6
INTERVAL = 30
WINDOW = 1  # steps either side of now


class Totp(pyotp.TOTP):
    """pyotp's TOTP, accepting 80-bit secrets: many apps and older systems issued them (the
    demo's bob has one). Secrets this kiosk makes are 160 bits (new_secret)."""

    min_secret_length_bits = 80


def _totp(secret: str) -> Totp:
    return Totp(secret, digits=DIGITS, interval=INTERVAL)


def code_at(secret: str, when: datetime) -> str:
    """The code an authenticator app shows at `when` (tests and the demo help use it)."""
    return _totp(secret).at(when)


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
