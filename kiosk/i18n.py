"""The message catalogue: every string the kiosk shows goes through `t()`.

Catalogues are flat JSON files in kiosk/locale/<lang>.json mapping a stable key
("welcome.reset") to a `str.format` template. English is the reference: every key used in
the code exists in en.json, and every other language must translate every English key with
the same placeholders (tests/ui/test_i18n.py enforces both).

The current language is process-wide state owned by the app (`set_language`). A kiosk runs one
visitor at a time, so one current language is exactly right; the app resets it for each visitor.
"""

from __future__ import annotations

import json
import string
from functools import cache
from importlib import resources
from typing import Any

from kiosk.backend import DEFAULT_LANGUAGE
from kiosk.backend import LANGUAGE_NAMES as LANGUAGES  # native names, never translated

_current = DEFAULT_LANGUAGE


@cache
def catalogue(language: str) -> dict[str, str]:
    """The catalogue of one language (cached; read once from the package data)."""
    path = resources.files("kiosk") / "locale" / f"{language}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def set_language(language: str) -> None:
    global _current
    _current = language if language in LANGUAGES else DEFAULT_LANGUAGE


def get_language() -> str:
    return _current


def has(key: str) -> bool:
    return key in catalogue(DEFAULT_LANGUAGE)


def t(key: str, /, **params: Any) -> str:
    """The text of `key` in the current language, formatted with `params`.

    A key missing from a translation falls back to English; a key missing from English is a
    programming error shown as the key itself (and caught by the catalogue test).
    """
    template = catalogue(_current).get(key)
    if template is None:
        template = catalogue(DEFAULT_LANGUAGE).get(key, key)
    if not params:
        return template
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def t_or(key: str, fallback: str, /, **params: Any) -> str:
    """Like `t`, but for keys that may legitimately be unknown (a rule id from a newer engine)."""
    return t(key, **params) if has(key) else fallback


def placeholders(template: str) -> set[str]:
    """The `{name}` fields of a template (for the catalogue consistency test)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
