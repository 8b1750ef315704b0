"""The one translation system: every string a person reads goes through a `Translator`.

A language's catalogue is flat JSON mapping a stable key ("welcome.reset") to a `str.format`
template, in two files of one format: kiosk/locale/<lang>.json (the screens) and
kiosk/locale/<lang>.messages.json (what the engine sends: codes by email, text and call,
notices and alerts; keys "msg.*"). English is the reference: every key used in the code exists
in English, and every other language translates every English key with the same placeholders
(tests/ui/test_i18n.py and tests/test_messages.py enforce both).

This module imports nothing from the UI, so the headless engine uses it too: the screens call
`t()` (the app's current language), the engine builds a `Translator` for the language of the
flow or of the person a notice goes to.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Any

from kiosk.backend import DEFAULT_LANGUAGE
from kiosk.backend import LANGUAGE_NAMES as LANGUAGES  # native names, never translated

PARTS = ("", ".messages")  # <lang>.json, <lang>.messages.json
# the catalogues beside this module (as kiosk/app.py finds its styles): importlib.resources
# would load zipfile and its readers, at every start, for a package that is never zipped
LOCALE = Path(__file__).with_name("locale")

# what a caller may name a language with: "de", "de-AT", "de_DE", "zh-Hant-TW" (BCP 47 shape)
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")
MAX_LANGUAGE_TAG = 35

_current = DEFAULT_LANGUAGE


@cache
def catalogue(language: str) -> dict[str, str]:
    """The catalogue of one language, both parts (cached; read once from the package data)."""
    texts: dict[str, str] = {}
    for part in PARTS:
        path = LOCALE / f"{language}{part}.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        texts.update((k, v) for k, v in data.items() if not k.startswith("_"))
    return texts


def is_language_tag(value: object) -> bool:
    """A string shaped like a language tag (not necessarily one the kiosk speaks)."""
    return (isinstance(value, str) and len(value) <= MAX_LANGUAGE_TAG
            and LANGUAGE_TAG.fullmatch(value) is not None)


def resolve(language: str, offered: Collection[str] | None = None,
            default: str = DEFAULT_LANGUAGE) -> str:
    """The catalogue language for a tag: "de-AT" and "de_DE" use "de"; a language the kiosk
    has no catalogue for (or, given `offered`, does not offer) gives `default`."""
    base = language.replace("_", "-").split("-")[0].lower() if isinstance(language, str) else ""
    if base in LANGUAGES and (offered is None or base in offered):
        return base
    return default if default in LANGUAGES else DEFAULT_LANGUAGE


class Translator:
    """`_("key", name=value)`: the text of a key in one language, values inserted after
    translation. A key missing from a translation falls back to English; a key missing from
    English is a programming error shown as the key itself (and caught by the catalogue tests).
    """

    def __init__(self, language: str) -> None:
        self.language = resolve(language)

    def template(self, key: str) -> str:
        found = catalogue(self.language).get(key)
        return found if found is not None else catalogue(DEFAULT_LANGUAGE).get(key, key)

    def __call__(self, key: str, /, **values: Any) -> str:
        return _format(self.template(key), values)

    def html(self, key: str, /, **values: Any) -> str:
        """The same text for HTML: the template and every value escaped."""
        import html  # for e-mail bodies only: html.entities' table is no load for the UI's start

        safe = {name: html.escape(str(value)) for name, value in values.items()}
        return _format(html.escape(self.template(key)), safe)


def _format(template: str, values: dict[str, Any]) -> str:
    if not values:
        return template
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):  # a text without some value still reads
        return template


@cache
def translator(language: str) -> Translator:
    return Translator(language)


# ------------------------------------------------------------------ the UI's current language
# Process-wide state owned by the app (`set_language`). A kiosk runs one visitor at a time, so
# one current language is exactly right; the app resets it for each visitor.


def set_language(language: str) -> None:
    global _current
    _current = resolve(language)


def get_language() -> str:
    return _current


def has(key: str) -> bool:
    return key in catalogue(DEFAULT_LANGUAGE)


def t(key: str, /, **params: Any) -> str:
    """The text of `key` in the current language, formatted with `params`."""
    return translator(_current)(key, **params)


def t_or(key: str, fallback: str, /, **params: Any) -> str:
    """Like `t`, but for keys that may legitimately be unknown (a rule id from a newer engine)."""
    return t(key, **params) if has(key) else fallback


def placeholders(template: str) -> set[str]:
    """The `{name}` fields of a template (for the catalogue consistency test)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
