"""The code an authenticator app shows (RFC 6238 with pyotp: SHA1, 6 digits, 30 s).

One definition for both sides: the engine checks codes with it (kiosk.engine.totp), and the
demo help shows bob's current code with it, without the UI importing the engine.
"""

from __future__ import annotations

from datetime import datetime

import pyotp

DIGITS = 6
INTERVAL = 30


class Totp(pyotp.TOTP):
    """pyotp's TOTP, accepting 80-bit secrets: many apps and older systems issued them (the
    demo's bob has one). Secrets this kiosk makes are 160 bits (kiosk.engine.totp.new_secret)."""

    min_secret_length_bits = 80


def code_at(secret: str, when: datetime) -> str:
    """The code an authenticator app shows at `when` (tests and the demo help use it)."""
    return Totp(secret, digits=DIGITS, interval=INTERVAL).at(when)
