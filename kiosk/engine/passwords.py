"""The password policy: every rule checked at once, each failure with a reason a person understands.

Headless (no UI imports): the engine calls `PasswordPolicy.check` on every keystroke for the live
checklist and strength meter, and again on submit. History is not checked here: it needs argon2
verifies, so the engine does it on submit, hashing `normalize_password(pw)`.

Messages never quote the password or the banned term it resembles: the field is masked on a
shared kiosk, and the term would give away part of the password to whoever is looking.
"""

from __future__ import annotations

import contextlib
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from zxcvbn import zxcvbn
from zxcvbn.matching import L33T_TABLE

from kiosk.backend import PasswordCheck, PasswordViolation
from kiosk.engine.config import Password
from kiosk.engine.password_fuzzy import (
    TermIndex,
    TermMatch,
    common_index,
    find_substrings,
    fold,
    personal_terms,
    score,
)

# Rule ids, in the order the live checklist shows them. The UI translates by id.
TOO_SHORT = "too_short"
TOO_LONG = "too_long"
CONTROL_CHARS = "control_chars"
CLASSES = "classes"
BANNED = "banned"
PERSONAL = "personal"
SAME_AS_CURRENT = "same_as_current"
WEAK = "weak"

# zxcvbn's matching is superlinear (every substring against 7 dictionaries, again for each l33t
# substitution set: 5.9 s of CPU for a 100-character l33t-dense paste); the meter only needs a
# prefix, and the first 40 characters score like the whole on ordinary input. The password
# itself is never cut.
ZXCVBN_PREFIX = 40
# Both ports also try every l33t reading of the characters in zxcvbn's l33t table, and that
# grows with how many there are: 40 such characters ("4@8({[<3691!|70$5+%2" twice) cost the
# Rust port 130-200 ms, holding the GIL, so every other check in the process waited. The meter
# stops before the 13th of them (at most ~7 ms); a password dense in symbols and digits is
# strong on its first dozen anyway, and the policy's other rules still see all of it.
L33T_BUDGET = 12
L33T_CHARACTERS = frozenset(c for subs in L33T_TABLE.values() for c in subs)
# Bound on the banned-term scan. max_length is at most 256, so every password that can pass is
# scanned in full; this only caps the work on a pasted novel that is rejected as too long anyway.
SCAN_LIMIT = 1024

# C0 and C1 controls (DEL included), and lone surrogates, which cannot be encoded for hashing.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

CLASS_NAMES = ("lower", "upper", "digit", "other")

# The Rust port (zxcvbn-rs-py) keeps no state between calls and releases the GIL: no lock, and
# one visitor's check never waits for another's. Python zxcvbn is the fallback where the wheel
# is missing; it keeps the user inputs in a module-level dict between its own calls, so its
# calls are serialised (one user's names must never score another user's password).
_rust_zxcvbn: Callable[..., Any] | None = None
with contextlib.suppress(ImportError):  # pragma: no cover - platforms without the wheel
    from zxcvbn_rs_py import zxcvbn as _rust_zxcvbn
_zxcvbn_lock = threading.Lock()

# Where PasswordPolicy.check runs: here, or (in `kiosk serve-api`) in worker processes that
# kiosk.engine.password_workers starts, so that no visitor's check waits for another's GIL.
Offload = Callable[["PasswordPolicy", str, Sequence[str], "str | None"], PasswordCheck]
_offload: Offload | None = None


def offload(runner: Offload | None) -> None:
    """Route every PasswordPolicy.check of this process through `runner` (None: in-process)."""
    global _offload
    _offload = runner


def preload() -> None:
    """Build now what every check needs (the banned-list index, zxcvbn's dictionaries). The
    SSH fork server calls this before it forks, so the sessions share those pages instead of
    each building its own (42 → 29 MiB PSS a session at 10 sessions)."""
    common_index()
    strength("Preload-warm-up-7", ["preload"])


def normalize_password(password: str) -> str:
    """NFKC: the form that is measured, checked and hashed (full-width "Ａ" is "A").

    Nothing else changes: no trimming, no case folding, no truncation.
    """
    return unicodedata.normalize("NFKC", password)


def meter_text(password: str) -> str:
    """What zxcvbn scores: the first ZXCVBN_PREFIX characters, ending before the
    (L33T_BUDGET + 1)th character of the l33t table."""
    prefix = password[:ZXCVBN_PREFIX]
    seen = 0
    for at, c in enumerate(prefix):
        if c in L33T_CHARACTERS:
            seen += 1
            if seen > L33T_BUDGET:
                return prefix[:at]
    return prefix


def strength(password: str, user_inputs: Sequence[str] = ()) -> int:
    """zxcvbn score 0-4 of a normalised password, looking at its `meter_text`."""
    prefix = meter_text(password)
    if not prefix:
        return 0  # zxcvbn fails on the empty string
    if _rust_zxcvbn is not None:
        # Rust strings are UTF-8: a lone surrogate (refused by the policy anyway) becomes "?"
        prefix = prefix.encode("utf-8", "replace").decode("utf-8")
        names = [n.encode("utf-8", "replace").decode("utf-8") for n in user_inputs]
        return int(_rust_zxcvbn(prefix, names).score)
    with _zxcvbn_lock:
        result = zxcvbn(prefix, user_inputs=list(user_inputs), max_length=ZXCVBN_PREFIX)
    return int(result["score"])


def character_classes(password: str) -> set[str]:
    """Which of lower, upper, digit and other (anything else: symbols, spaces, CJK) occur."""
    present: set[str] = set()
    for c in password:
        if c.islower():
            present.add("lower")
        elif c.isupper():
            present.add("upper")
        elif c.isdigit():
            present.add("digit")
        else:
            present.add("other")
        if len(present) == 4:
            break
    return present


def _violation(rule: str, message: str, **params: Any) -> PasswordViolation:
    return PasswordViolation(rule=rule, message=message, params=params)


# what the `banned` and `personal` rules say, by the reason the fuzzy check found
_FUZZY_MESSAGES = {
    "common": "This is one of the most commonly used passwords: attackers try it first.",
    "custom": "Your organisation does not allow this word as a password.",
    "similar": "It is built on commonly used passwords or words your organisation does not "
               "allow. Add more words or characters of your own.",
    "few_characters": "It uses too few different characters. "
                      "Add more words or characters of your own.",
    "same": "Do not use your name, user name or your organisation's name as password.",
    "contains": "It is built on your name or your organisation's name. "
                "Add more words or characters of your own.",
}


def _fuzzy_violation(rule: str, reason: str, points: int, need: int) -> PasswordViolation:
    return _violation(rule, _FUZZY_MESSAGES[reason], reason=reason, points=points,
                      min_points=need)


class PasswordPolicy:
    """Checks passwords against the `[password]` section of the policy file."""

    def __init__(self, cfg: Password, organization_name: str) -> None:
        self.cfg = cfg
        self.organization_name = organization_name
        self._common = common_index()  # built once per process, shared by every policy
        self._custom = TermIndex(cfg.banned_terms, "custom")
        self._org_terms = personal_terms([organization_name])

    def rules(self, *, with_current: bool = False) -> list[str]:
        """Every rule `check` evaluates, in display order."""
        rules = [TOO_SHORT, TOO_LONG, CONTROL_CHARS]
        if self.cfg.require_classes:
            rules.append(CLASSES)
        rules += [BANNED, PERSONAL]
        if with_current:
            rules.append(SAME_AS_CURRENT)
        if self.cfg.min_score:
            rules.append(WEAK)
        return rules

    def check(
        self,
        password: str,
        *,
        user_terms: Sequence[str] = (),
        current_password: str | None = None,
    ) -> PasswordCheck:
        """Evaluate every rule; `user_terms` are the user's names (first, last, login, ...)."""
        runner = _offload
        if runner is not None:
            return runner(self, password, user_terms, current_password)
        return self.check_here(password, user_terms=user_terms, current_password=current_password)

    def check_here(
        self,
        password: str,
        *,
        user_terms: Sequence[str] = (),
        current_password: str | None = None,
    ) -> PasswordCheck:
        """`check`, in this process."""
        cfg = self.cfg
        pw = normalize_password(password)
        length = len(pw)  # code points
        violations: list[PasswordViolation] = []

        if length < cfg.min_length:
            violations.append(
                _violation(
                    TOO_SHORT,
                    f"Use at least {cfg.min_length} characters; this password has {length}.",
                    min=cfg.min_length,
                    length=length,
                )
            )
        if length > cfg.max_length:
            violations.append(
                _violation(
                    TOO_LONG,
                    f"Use at most {cfg.max_length} characters; this password has {length}.",
                    max=cfg.max_length,
                    length=length,
                )
            )

        controls = _CONTROL.findall(pw)
        if controls:
            codes = sorted({f"U+{ord(c):04X}" for c in controls})
            violations.append(
                _violation(
                    CONTROL_CHARS,
                    "Remove the invisible control characters (such as a tab or a line break): "
                    "they cannot be typed the same way on every sign-in screen.",
                    count=len(controls),
                    codes=codes,
                )
            )

        if cfg.require_classes:
            present = character_classes(pw)
            if len(present) < cfg.require_classes:
                violations.append(
                    _violation(
                        CLASSES,
                        f"Use at least {cfg.require_classes} of these 4 kinds of characters: "
                        "lowercase letters, uppercase letters, digits, and symbols or spaces; "
                        f"this password has {len(present)}.",
                        required=cfg.require_classes,
                        present=len(present),
                        missing=[name for name in CLASS_NAMES if name not in present],
                    )
                )

        names = personal_terms(user_terms) | self._org_terms
        violations += self._banned(pw, names)

        if current_password is not None and pw == normalize_password(current_password):
            violations.append(
                _violation(
                    SAME_AS_CURRENT,
                    "Choose a password that is different from your current one.",
                )
            )

        user_inputs = [*user_terms, self.organization_name, *names]
        meter = strength(pw, user_inputs)
        if cfg.min_score and meter < cfg.min_score:
            violations.append(
                _violation(
                    WEAK,
                    f"This password is too easy to guess (strength {meter} of 4, at least "
                    f"{cfg.min_score} needed). A few unrelated words make a strong passphrase.",
                    score=meter,
                    min=cfg.min_score,
                )
            )

        return PasswordCheck(
            ok=not violations,
            violations=violations,
            score=meter,
            rules=self.rules(with_current=current_password is not None),
        )

    def _banned(self, pw: str, names: frozenset[str]) -> list[PasswordViolation]:
        """The `banned` and `personal` rules: exact list entries, then Entra's fuzzy score."""
        folded = fold(pw[:SCAN_LIMIT])
        whole = fold(pw)
        need = self.cfg.fuzzy_min_points
        personal: list[TermMatch] = find_substrings(folded, names, "personal")
        matches = [*self._common.find(folded), *self._custom.find(folded), *personal]
        result = score(folded, matches)
        weak = result.points < need
        chosen = {m.source for m in result.matches}
        out: list[PasswordViolation] = []

        common, custom = whole in self._common.terms, whole in self._custom.terms
        listed = "common" in chosen or "custom" in chosen
        if common or custom or (weak and (listed or not personal)):
            reason = ("common" if common else "custom" if custom else "similar" if listed
                      else "few_characters")
            out.append(_fuzzy_violation(BANNED, reason, result.points, need))

        same = whole in names
        if same or (weak and personal):
            out.append(_fuzzy_violation(PERSONAL, "same" if same else "contains",
                                        result.points, need))
        return out
