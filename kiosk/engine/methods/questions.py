"""Security questions: a random subset is drawn; any wrong answer draws a new set."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from kiosk.backend import Channel, MethodKind
from kiosk.engine.config import Policy
from kiosk.engine.crypto import Hasher
from kiosk.engine.questions import question_text
from kiosk.engine.registry import Registered

_random = secrets.SystemRandom()


@dataclass
class QuestionsMethod:
    kind: str = MethodKind.QUESTIONS
    channels: list[Channel] = field(default_factory=list)

    def registered(self, reg: Registered, policy: Policy, *, before_proof: bool) -> bool:
        # before a proof a custom question's text (the user's own words) is never shown
        answers = [a for a in reg.answers if not (before_proof and a.custom_text is not None)]
        return len(answers) >= policy.questions.to_reset

    def mask(self, value: str) -> str:
        return ""


def draw(pool: list[tuple[str, str | None]], count: int,
         avoid: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """`count` questions from the pool, preferring a set other than the one just failed."""
    count = min(count, len(pool))
    for _ in range(8):
        chosen = _random.sample(pool, count)
        if {q for q, _ in chosen} != avoid:
            break
    return [{"id": qid, "text": question_text(qid, custom), "custom": custom is not None}
            for qid, custom in chosen]


def all_right(hasher: Hasher, hashes: list[str | None], answers: list[str]) -> bool:
    """Every answer is checked (no early exit): the time says nothing about which was wrong,
    and a missing hash (a decoy) costs the same argon2 work and is never right."""
    results = [hasher.verify(h, a) for h, a in zip(hashes, answers, strict=True)]
    return all(results) and None not in hashes
