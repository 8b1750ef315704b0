"""Registered verification methods: contacts, authenticator secrets, security answers.

Authenticator secrets are stored sealed (kiosk.engine.sealing) with the server key, the
registered ones and the one pending in a flow while it is enrolled; only
`authenticator_secret` and `pending_secret` ever open them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, insert, select, update

from kiosk.engine.schema import methods, question_answers, users
from kiosk.engine.sealing import method_context, pending_context, seal, unseal, unseal_or_none

if TYPE_CHECKING:
    from kiosk.engine.flow import Flow

AUTHENTICATOR = "authenticator"
PENDING = "enroll_secret"  # the flow.data key of the secret being enrolled


@dataclass(frozen=True)
class StoredAnswer:
    question_id: str
    custom_text: str | None
    answer_hash: str


@dataclass
class Registered:
    """What one user has registered."""

    contacts: dict[str, str] = field(default_factory=dict)  # kind -> address / E.164 number
    totp_secret: str | None = None  # sealed ("v1:..."): tells that one is registered
    answers: list[StoredAnswer] = field(default_factory=list)


def load(conn: Connection, user_id: int) -> Registered:
    reg = Registered()
    for kind, value in conn.execute(
        select(methods.c.kind, methods.c.value).where(methods.c.user_id == user_id)
    ):
        if kind == "authenticator":
            reg.totp_secret = value
        else:
            reg.contacts[kind] = value
    reg.answers = [
        StoredAnswer(r.question_id, r.custom_text, r.answer_hash)
        for r in conn.execute(
            select(question_answers).where(question_answers.c.user_id == user_id)
            .order_by(question_answers.c.id)
        )
    ]
    return reg


def set_method(conn: Connection, user_id: int, kind: str, value: str, now: datetime) -> None:
    """A contact (email, mobile, office); the authenticator goes through set_authenticator."""
    if kind == AUTHENTICATOR:
        raise ValueError("an authenticator secret is stored sealed: use set_authenticator")
    _replace(conn, user_id, kind, value, now)


def _replace(conn: Connection, user_id: int, kind: str, value: str, now: datetime) -> None:
    conn.execute(delete(methods).where(methods.c.user_id == user_id, methods.c.kind == kind))
    conn.execute(insert(methods).values(user_id=user_id, kind=kind, value=value, created_at=now))


def set_authenticator(conn: Connection, key: bytes, user_id: int, secret: str,
                      now: datetime) -> None:
    """Register an authenticator secret (base32), sealed; a new secret starts a new replay
    window."""
    sealed = seal(key, secret, method_context(user_id, AUTHENTICATOR))
    _replace(conn, user_id, AUTHENTICATOR, sealed, now)
    conn.execute(update(users).where(users.c.id == user_id).values(totp_last_step=0))


def authenticator_secret(conn: Connection, key: bytes, user_id: int) -> str | None:
    """The registered authenticator secret (base32), or None. SealError when it does not open
    with `key` (the key was rotated while this instance kept the old one: restart it)."""
    value = conn.execute(select(methods.c.value).where(
        methods.c.user_id == user_id, methods.c.kind == AUTHENTICATOR)).scalar()
    if value is None:
        return None
    return unseal(key, value, method_context(user_id, AUTHENTICATOR))


def set_pending_secret(key: bytes, flow: Flow, secret: str) -> None:
    """Keep the secret being enrolled in the flow, sealed, until it is confirmed or the flow
    ends (the caller saves the flow)."""
    flow.data[PENDING] = seal(key, secret, pending_context(flow.id))


def pending_secret(key: bytes, flow: Flow) -> str | None:
    """The secret being enrolled in this flow, or None (none, or sealed with another key)."""
    return unseal_or_none(key, flow.data.get(PENDING), pending_context(flow.id))


def remove_method(conn: Connection, user_id: int, kind: str) -> None:
    conn.execute(delete(methods).where(methods.c.user_id == user_id, methods.c.kind == kind))
    if kind == "questions":
        conn.execute(delete(question_answers).where(question_answers.c.user_id == user_id))


def set_answers(conn: Connection, user_id: int, answers: list[StoredAnswer]) -> None:
    conn.execute(delete(question_answers).where(question_answers.c.user_id == user_id))
    for a in answers:
        conn.execute(insert(question_answers).values(
            user_id=user_id, question_id=a.question_id, custom_text=a.custom_text,
            answer_hash=a.answer_hash))


def claim_totp_step(conn: Connection, user_id: int, step: int) -> bool:
    """Record a used TOTP step atomically; False if this or a later step was already used."""
    result = conn.execute(update(users).where(
        users.c.id == user_id, users.c.totp_last_step < step).values(totp_last_step=step))
    return result.rowcount == 1


def mark_registered(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(registered_at=now))
