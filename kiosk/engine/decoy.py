"""Decoys: what a name that cannot use self-service shows, so that it looks like one that can.

Plausible, stable masked methods derived from a keyed hash of the name: the same name always
shows the same methods, so probing twice reveals nothing. The shape follows the organisation's
own accounts (how many register each kind of method, their mail domains and country codes),
learnt from the registered methods or set in the policy, so a decoy's `a•••@c•••.org` looks like
everybody else's. Nobody without the server key can tell a decoy from a real account by its masks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers
from sqlalchemy import Connection, func, select

from kiosk.backend import CONTACT_KINDS, METHOD_KINDS
from kiosk.engine.crypto import keyed_hash
from kiosk.engine.learnt import Learnt
from kiosk.engine.questions import PREDEFINED
from kiosk.engine.schema import methods, question_answers
from kiosk.engine.text import mask_email, mask_phone

# used only while the organisation has too few registered people to learn from
DEFAULT_SHARE = {"email": 0.9, "mobile": 0.75, "office": 0.2, "questions": 0.66,
                 "authenticator": 0.17}
DEFAULT_DOMAINS = ("example.com",)
DEFAULT_COUNTRIES = ("1",)
SAMPLE = 5000  # rows read to learn the shape: enough for the proportions, cheap to read
MIN_PEOPLE = 5  # fewer registered people than this: their proportions mean little


@dataclass(frozen=True)
class DecoyShape:
    """The organisation's accounts in proportions: share of people per method kind, and
    mail domains / phone country codes, each repeated as often as it occurs (for drawing)."""

    share: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SHARE))
    domains: tuple[str, ...] = DEFAULT_DOMAINS
    countries: tuple[str, ...] = DEFAULT_COUNTRIES


def _weighted(counter: Counter[str], limit: int = 64) -> tuple[str, ...]:
    """The most common values, each repeated by its weight (at most `limit` entries)."""
    total = sum(counter.values())
    out: list[str] = []
    for value, n in counter.most_common(16):
        out += [value] * max(1, round(limit * n / total))
    return tuple(out)


def learn_shape(conn: Connection, domains: list[str], countries: list[str]) -> DecoyShape:
    """Read the shape from the registered methods; the policy's lists win where given."""
    people = conn.execute(select(func.count(func.distinct(methods.c.user_id)))).scalar_one()
    share = dict(DEFAULT_SHARE)
    if people >= MIN_PEOPLE:
        for kind, n in conn.execute(select(methods.c.kind, func.count(
                func.distinct(methods.c.user_id))).group_by(methods.c.kind)):
            share[kind] = n / people
        with_questions = conn.execute(
            select(func.count(func.distinct(question_answers.c.user_id)))).scalar_one()
        share["questions"] = with_questions / people
    domain_count: Counter[str] = Counter(d.casefold() for d in domains)
    country_count: Counter[str] = Counter(c.lstrip("+") for c in countries)
    if not domain_count or not country_count:
        rows = conn.execute(select(methods.c.kind, methods.c.value).where(
            methods.c.kind.in_(CONTACT_KINDS)).limit(SAMPLE)).all()
        for kind, value in rows:
            if kind == "email" and not domains:
                domain_count[value.rpartition("@")[2].casefold()] += 1
            elif kind != "email" and not countries:
                try:
                    domain = phonenumbers.parse(value, None).country_code
                except phonenumbers.NumberParseException:
                    continue
                country_count[str(domain)] += 1
    return DecoyShape(share, _weighted(domain_count) or DEFAULT_DOMAINS,
                      _weighted(country_count) or DEFAULT_COUNTRIES)


class ShapeCache:
    """The learnt shape, read again every few minutes (never per request: start-up and
    identify stay fast, and a real and a decoy start run the same statements)."""

    def __init__(self, domains: list[str], countries: list[str]) -> None:
        self._shape = Learnt(lambda conn: learn_shape(conn, domains, countries))

    def get(self, conn: Connection, now: datetime) -> DecoyShape:
        return self._shape.get(conn, now)

    def forget(self) -> None:
        self._shape.forget()


@dataclass(frozen=True)
class DecoyProfile:
    contacts: dict[str, str]  # kind -> masked value
    question_ids: list[str]
    has_authenticator: bool


class _Draw:
    """Deterministic draws from a keyed digest (two bytes each)."""

    def __init__(self, digest: bytes) -> None:
        self.digest, self.at = digest, 0

    def unit(self) -> float:
        value = int.from_bytes(self.digest[self.at:self.at + 2], "big") / 65536
        self.at = (self.at + 2) % (len(self.digest) - 1)
        return value

    def pick(self, values: tuple[str, ...]) -> str:
        return values[int(self.unit() * len(values))]


def decoy_profile(key: bytes, username: str, offered: list[str], questions_to_register: int,
                  required: int = 1, shape: DecoyShape | None = None) -> DecoyProfile:
    """A decoy never offers fewer methods than the proofs it would need (`required`)."""
    shape = shape or DecoyShape()
    draw = _Draw(bytes.fromhex(keyed_hash(key, "decoy", username)))
    first = (username[:1] or "a").lower()

    def contact(kind: str) -> str:
        if kind == "email":
            return mask_email(f"{first}x@{draw.pick(shape.domains)}")
        return mask_phone(f"+{draw.pick(shape.countries)}0000000{int(draw.unit() * 100):02d}")

    wanted = {kind: kind in offered and draw.unit() < shape.share.get(kind, 0.0)
              for kind in METHOD_KINDS}
    # as many methods as the proofs need (at least one), adding the commonest kinds first
    for kind in sorted(wanted, key=lambda k: -shape.share.get(k, 0.0)):
        if sum(wanted.values()) >= max(required, 1):
            break
        if kind in offered:
            wanted[kind] = True
    contacts = {kind: contact(kind) for kind in CONTACT_KINDS if wanted[kind]}
    question_ids: list[str] = []
    if wanted["questions"]:
        pool = sorted(PREDEFINED)
        index = int(draw.unit() * len(pool))
        while len(question_ids) < questions_to_register:
            candidate = pool[index % len(pool)]
            if candidate not in question_ids:
                question_ids.append(candidate)
            index += 7
    return DecoyProfile(contacts, question_ids, wanted["authenticator"])
