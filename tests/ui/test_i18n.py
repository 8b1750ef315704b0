"""The one message catalogue: every key the UI uses and every key the engine sends (codes,
notices, alerts: "msg.*") exists in English, and every other language translates every English
key with the same placeholders. A string without a translation fails here."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import get_args

import pytest

import kiosk
from kiosk.backend import ERRORS, METHOD_KINDS, Channel, MethodKind, Purpose
from kiosk.demo_users import DEMO_USERS
from kiosk.engine.messages import PURPOSES, Change, Event
from kiosk.engine.passwords import PasswordPolicy
from kiosk.engine.questions import PREDEFINED
from kiosk.i18n import LANGUAGES, PARTS, catalogue, placeholders
from kiosk.screens.outcome import ProblemScreen

ROOT = Path(kiosk.__file__).parent
UI_SOURCES = [ROOT / "app.py", *sorted((ROOT / "screens").glob("*.py")),
              *sorted((ROOT / "widgets").glob("*.py"))]
ENGINE_SOURCES = sorted((ROOT / "engine").rglob("*.py"))
KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
EN = catalogue("en")

# the same in both languages on purpose (names, codes, and words German borrows)
SAME_IN_GERMAN = {"problem.helpdesk", "outbox.code", "hint.help", "console.col.terminal",
                  "console.board.terminals", "console.col.detail", "console.col.status"}


# what to do about each rule a password fails (kiosk.widgets.password.advice_text), by the
# engine's rule and, where it gives one, its reason
ADVICE = {f"advice.{rule}" for rule in ("too_short", "too_long", "control_chars", "classes",
                                        "same_as_current", "weak", "history")} \
    | {f"advice.banned.{reason}" for reason in ("common", "custom", "similar", "few_characters")} \
    | {f"advice.personal.{reason}" for reason in ("same", "contains")}


def literal_keys(sources: list[Path] = UI_SOURCES, prefixes: set[str] | None = None) -> set[str]:
    """Every string constant in `sources` that is passed to t()/t_or() or looks like a key of
    a family the catalogue has (so keys kept in class attributes are checked too)."""
    prefixes = prefixes or {key.split(".")[0] for key in EN}
    found: set[str] = set()
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        actions = {  # Binding("f1", "app.focus_next"): action names, not catalogue keys
            arg.value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Binding"
            for arg in node.args if isinstance(arg, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in actions:
                continue
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("t", "t_or") and node.args
                    and isinstance(node.args[0], ast.Constant)):
                found.add(node.args[0].value)
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and KEY.match(node.value) and node.value.split(".")[0] in prefixes
                    and not node.value.endswith((".py", ".tcss", ".json"))):
                found.add(node.value)
    return found


def dynamic_keys() -> set[str]:
    """Keys the UI builds from values (f-strings): every value they can take."""
    keys: set[str] = set()
    keys |= {f"purpose.{p.value}" for p in Purpose}
    keys |= {f"method.{m.value}" for m in MethodKind}
    keys |= {f"kind.{m.value}" for m in MethodKind}
    keys |= {f"register.add.{m}" for m in METHOD_KINDS}  # a pass is issued, not registered
    for kind in ("email", "mobile", "office"):
        keys |= {f"register.{kind}.{part}" for part in
                 ("lead", "label", "placeholder", "empty", "invalid")}
    keys |= {f"channel.{c.value}" for c in Channel}
    keys |= {f"code.sent.{c.value}" for c in Channel}
    keys |= {f"error.{code}" for code in ERRORS}
    keys |= {f"error.code_expired.{reason}" for reason in ("expired", "used", "superseded")}
    keys |= {f"rule.{rule}" for rule in (
        "too_short", "too_long", "control_chars", "classes", "banned", "personal",
        "same_as_current", "weak", "history", "match")}
    keys |= {"rule.classes.generic", "rule.weak.generic", "rule.history.generic"}
    keys |= ADVICE
    keys |= {f"question.{qid}" for qid in PREDEFINED}
    for kind in ProblemScreen.KINDS:
        keys |= {f"problem.{kind}.title", f"problem.{kind}.body"}
    for result in ("reset", "unlocked", "changed", "registered", "other"):
        keys |= {f"done.{result}.title", f"done.{result}.next"}
    keys |= {f"strength.{n}" for n in range(5)}
    keys |= {f"demo.{user.username}" for user in DEMO_USERS}
    return keys


def engine_dynamic_keys() -> set[str]:
    """Keys the engine's messages build from values (f-strings): every value they can take."""
    keys = {f"msg.purpose.{purpose}" for purpose in PURPOSES}
    keys |= {f"msg.method.{kind}" for kind in METHOD_KINDS}
    keys |= {f"msg.change.{change}" for change in get_args(Change)}
    keys |= {f"msg.{event}.{part}" for event in get_args(Event) for part in ("subject", "what")}
    keys |= {f"{contact}_default" for contact in ("msg.notice.not_you", "msg.alert.contact")}
    return keys


def test_every_key_the_engine_sends_is_in_english_and_every_message_key_is_used() -> None:
    used = literal_keys(ENGINE_SOURCES, {"msg"}) | engine_dynamic_keys()
    assert len(used) > 40, "the engine's message keys were not found"
    missing = sorted(used - set(EN))
    assert not missing, f"keys the engine sends but en.messages.json lacks: {missing}"
    unused = sorted(key for key in EN if key.startswith("msg.") and key not in used)
    assert not unused, f"message keys nothing sends: {unused}"


def test_every_purpose_has_a_code_message() -> None:
    # the stages pass the flow's purpose as the key of its code message
    assert {p.value for p in Purpose} <= set(PURPOSES)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_each_language_has_both_catalogue_parts_without_overlap(language: str) -> None:
    screens, messages = (
        {key for key in json.loads((ROOT / "locale" / f"{language}{part}.json").read_text(
            encoding="utf-8")) if not key.startswith("_")}  # "_comment"
        for part in PARTS)
    assert messages and not screens & messages
    assert all(key.startswith("msg.") for key in messages)
    assert not any(key.startswith("msg.") for key in screens)


def test_every_key_the_ui_uses_is_in_english() -> None:
    missing = sorted((literal_keys() | dynamic_keys()) - set(EN))
    assert not missing, f"keys used by the UI but missing from en.json: {missing}"


def test_every_engine_password_rule_has_a_text() -> None:
    from kiosk.engine.config import Password

    policy = PasswordPolicy(Password(require_classes=2, min_score=3), "Org")
    rules = set(policy.rules(with_current=True)) | {"history"}
    missing = sorted(f"rule.{r}" for r in rules if f"rule.{r}" not in EN)
    assert not missing
    advised = {key.split(".")[1] for key in ADVICE}
    assert rules <= advised, f"rules without advice: {sorted(rules - advised)}"


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en"}))
def test_every_english_key_is_translated(language: str) -> None:
    other = catalogue(language)
    missing = sorted(set(EN) - set(other))
    extra = sorted(set(other) - set(EN))
    assert not missing, f"{language}.json lacks translations for: {missing}"
    assert not extra, f"{language}.json has keys English does not: {extra}"
    for key, text in other.items():
        assert text.strip(), f"{language}:{key} is empty"
        assert placeholders(text) == placeholders(EN[key]), f"{language}:{key} placeholders"
    untranslated = sorted(k for k in EN if other[k] == EN[k] and k not in SAME_IN_GERMAN
                          and not k.startswith("demo.") and placeholders(EN[k]) != {EN[k]})
    # a few may be legitimately identical; many identical strings mean a missing translation
    assert len(untranslated) <= 3, f"{language}: not translated? {untranslated}"


def test_catalogues_are_valid_json_without_duplicate_keys() -> None:
    for path in (ROOT / "locale").glob("*.json"):
        def no_duplicates(pairs, path=path):  # type: ignore[no-untyped-def]
            keys = [k for k, _ in pairs]
            dupes = {k for k in keys if keys.count(k) > 1}
            assert not dupes, f"{path.name}: duplicate keys {dupes}"
            return dict(pairs)

        json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)


def test_no_visible_english_literals_in_widgets() -> None:
    """Static(...) and Button(...) texts come from the catalogue, not from literals."""
    offenders = []
    for path in UI_SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("Static", "Button", "Choice", "Label")
                    and node.args):
                first = node.args[0] if node.func.id != "Choice" else node.args[1]
                if isinstance(first, ast.Constant) and isinstance(first.value, str) \
                        and re.search(r"[A-Za-z]{3}", first.value):
                    offenders.append(f"{path.name}:{node.lineno} {first.value!r}")
    assert not offenders, offenders


def test_rule_texts_never_show_a_placeholder() -> None:
    """A met rule has no params; its line must still read well (no "{required}")."""
    from kiosk.i18n import set_language
    from kiosk.widgets.password import rule_text

    base = {"min": 12, "max": 256}
    for language in LANGUAGES:
        set_language(language)
        try:
            for rule in ("too_short", "too_long", "control_chars", "classes", "banned",
                         "personal", "same_as_current", "weak", "history", "match",
                         "brand_new_rule"):
                text = rule_text(rule, base, "fallback text")
                assert "{" not in text, (language, rule, text)
            assert rule_text("classes", {**base, "required": 3}) != rule_text("classes", base)
        finally:
            set_language("en")


def test_the_policy_offers_exactly_the_languages_with_a_catalogue() -> None:
    from kiosk.engine.config import Organization

    (literal,) = get_args(Organization.model_fields["languages"].annotation)
    assert set(get_args(literal)) == set(LANGUAGES)
    for language in LANGUAGES:  # both parts of every catalogue are there
        assert all((ROOT / "locale" / f"{language}{part}.json").is_file() for part in PARTS)


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Long enough for the directory (at least 20 characters)"),
    ("de", "Lang genug für das Verzeichnis (mindestens 20 Zeichen)"),
])
def test_a_directory_refusal_reads_in_the_visitors_language(language: str, expected: str) -> None:
    """AD / ppolicy refusals name a reason; the checklist line comes from the catalogue, not
    from the directory's English text."""
    from kiosk.i18n import get_language, set_language
    from kiosk.widgets.password import rule_text

    before = get_language()
    set_language(language)
    try:
        params = {"reason": "passwordTooShort", "min_length": 20}
        assert rule_text("directory", params, "the directory needs a longer password") == expected
        unknown = {"reason": "somethingNew"}
        assert rule_text("directory", unknown, "fallback") == (
            "Accepted by the organisation's directory" if language == "en"
            else "Vom Verzeichnis der Organisation akzeptiert")
    finally:
        set_language(before)
