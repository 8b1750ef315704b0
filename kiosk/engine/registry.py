"""Registered verification methods: contacts, authenticator secrets, security answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from kiosk.engine.schema import methods, question_answers, users

CONTACT_KINDS = ("email", "mobile", "office")


@dataclass(frozen=True)
class StoredAnswer:
    question_id: str
    custom_text: str | None
    answer_hash: str


@dataclass
class Registered:
    """What one user has registered."""

    contacts: dict[str, str] = field(default_factory=dict)  # kind -> address / E.164 number
    totp_secret: str | None = None
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
    conn.execute(delete(methods).where(methods.c.user_id == user_id, methods.c.kind == kind))
    conn.execute(insert(methods).values(user_id=user_id, kind=kind, value=value, created_at=now))
    if kind == "authenticator":  # a new secret starts a new replay window
        conn.execute(update(users).where(users.c.id == user_id).values(totp_last_step=0))


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
