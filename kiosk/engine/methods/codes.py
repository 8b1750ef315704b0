"""Codes by email, text or call: contacts, their masks, and one-time challenges.

Codes: digits from a CSPRNG, stored only as a keyed hash, compared in constant time, single
use (claimed atomically), superseded by a resend, valid for the policy's lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from kiosk.backend import Channel, CodeExpired, InvalidInput, MethodKind
from kiosk.engine.config import Policy
from kiosk.engine.crypto import keyed_hash, new_code, new_token, same
from kiosk.engine.registry import Registered
from kiosk.engine.schema import challenges
from kiosk.engine.text import mask_email, mask_phone


@dataclass
class ContactMethod:
    """email / mobile / office: a registered address or number that gets a code."""

    kind: str
    channels: list[Channel] = field(default_factory=list)
    notice: Channel | None = None  # how notices (a reset, a change) reach it; None: never

    def registered(self, reg: Registered, policy: Policy, *, before_proof: bool) -> bool:
        return self.kind in reg.contacts

    def mask(self, value: str) -> str:
        return mask_email(value) if self.kind == MethodKind.EMAIL else mask_phone(value)


@dataclass(frozen=True)
class CodeToCheck:
    challenge_id: str
    method: str
    code_hash: str


def clean_code(code: object, length: int) -> str:
    """Digits only; spaces and dashes a person types or pastes are dropped."""
    if not isinstance(code, str) or len(code) > 64:
        raise InvalidInput("the code must be text", field="code")
    digits = "".join(ch for ch in code if ch not in " -\u00a0\t")
    if len(digits) != length or not digits.isascii() or not digits.isdigit():
        raise InvalidInput(f"the code has {length} digits", field="code", length=length)
    return digits


def new_challenge(conn: Connection, key: bytes, policy: Policy, now: datetime, flow_id: str,
                  method: str, channel: str, destination: str) -> tuple[str, str]:
    """A fresh code for the flow (earlier unused ones become worthless): (id, code)."""
    conn.execute(update(challenges).where(
        challenges.c.flow_id == flow_id, challenges.c.used_at.is_(None)
    ).values(superseded=True))
    challenge_id = new_token(12)
    code = new_code(policy.codes.length)
    conn.execute(insert(challenges).values(
        id=challenge_id, flow_id=flow_id, method=method, channel=channel,
        destination=destination, code_hash=keyed_hash(key, "code", challenge_id, code),
        created_at=now, expires_at=now + timedelta(minutes=policy.codes.lifetime_minutes),
        superseded=False))
    return challenge_id, code


def load_challenge(conn: Connection, flow_id: str, support_code: str, challenge_id: object,
                   now: datetime) -> CodeToCheck:
    """The challenge a code answers; CodeExpired for a stale, used or superseded one."""
    if not isinstance(challenge_id, str) or len(challenge_id) > 64:
        raise InvalidInput("unknown challenge", field="challenge")
    row = conn.execute(select(challenges).where(
        challenges.c.id == challenge_id, challenges.c.flow_id == flow_id)).first()
    if row is None:
        raise InvalidInput("unknown challenge", field="challenge")
    if row.superseded:
        raise CodeExpired("a newer code was sent; use the newest one",
                          support_code=support_code, reason="superseded")
    if row.used_at is not None:
        raise CodeExpired("this code was used already", support_code=support_code,
                          reason="used")
    if now >= row.expires_at:
        raise CodeExpired("this code has expired; send a new one", support_code=support_code,
                          reason="expired")
    return CodeToCheck(row.id, row.method, row.code_hash)


def is_right(key: bytes, challenge: CodeToCheck, code: str) -> bool:
    return same(keyed_hash(key, "code", challenge.challenge_id, code), challenge.code_hash)


def claim(conn: Connection, challenge: CodeToCheck, now: datetime) -> bool:
    """Single use, even when two requests race with the same right code; a code superseded
    while it was checked is refused too."""
    return conn.execute(update(challenges).where(
        challenges.c.id == challenge.challenge_id, challenges.c.used_at.is_(None),
        challenges.c.superseded.is_(False)
    ).values(used_at=now)).rowcount == 1


def destination_of(conn: Connection, challenge: CodeToCheck) -> str:
    """Where a confirmation code went: the contact being registered."""
    return str(conn.execute(select(challenges.c.destination).where(
        challenges.c.id == challenge.challenge_id)).scalar_one())
