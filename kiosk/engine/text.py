"""Text normalisation and masking: pure functions, property-tested."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MASK = "•••"


def has_control_chars(text: str) -> bool:
    return bool(_CONTROL.search(text))


def normalize_answer(answer: str) -> str:
    """NFKC, casefold, spaces collapsed: 'Spring  Field ' and 'spring field' are one answer."""
    text = unicodedata.normalize("NFKC", answer).casefold()
    # casefold can produce text that NFKC would change again (e.g. 'ß' → 'ss' is stable,
    # but some compatibility characters are not); normalise once more to be idempotent
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", text).strip()


def _fold_name(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    # casefold may leave text NFKC changes again ('ß\u0301' → 'ss\u0301' → 'sś'): once more
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", text).strip()


def normalize_username(username: str) -> str:
    """The one form of a name: NFKC, casefold, NFKC again, white space runs (also no-break and
    ideographic spaces) collapsed to one space, stripped. 'John  Doe', ' john doe ' and
    'john\u00a0 doe' are one name, and normalising twice changes nothing (the throttles and the
    directory lookups key on this form)."""
    name = _fold_name(username)
    # with today's Unicode tables one pass is already a fixed point (property-tested); this
    # safety net settles any string a future table might leave unsettled after one pass
    for _ in range(3):
        again = _fold_name(name)
        if again == name:
            break
        name = again
    return name


# words every question shares; an answer "the rex" must not fail because of "the"
_STOPWORDS = frozenset(
    [
        "what",
        "was",
        "were",
        "the",
        "your",
        "you",
        "did",
        "who",
        "whom",
        "where",
        "which",
        "when",
        "how",
        "name",
        "first",
        "last",
        "and",
        "for",
        "from",
        "with",
        "that",
        "this",
        "into",
    ]
)


def words(text: str) -> set[str]:
    """The telling words of a question, for the 'answer may not contain them' rule."""
    return {
        w for w in re.findall(r"\w+", normalize_answer(text)) if len(w) >= 3 and w not in _STOPWORDS
    }


def mask_email(address: str) -> str:
    """'alice@contoso.org' → 'a•••@c•••.org'."""
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return MASK
    head, dot, tld = domain.rpartition(".")
    if not dot:
        head, tld = domain, ""
    masked_domain = f"{head[:1]}{MASK}" + (f".{tld}" if tld else "")
    return f"{local[:1]}{MASK}@{masked_domain}"


def mask_phone(number: str) -> str:
    """'+14255550142' → '+1 •• •• ••42' (country code and the last two digits)."""
    digits = re.sub(r"\D", "", number)
    try:
        country = str(phonenumbers.parse(number, None).country_code)
    except phonenumbers.NumberParseException:
        country = ""
    prefix = f"+{country} " if country else ""
    return f"{prefix}•• •• ••{digits[-2:]}"


def normalize_phone(number: str, default_region: str | None = None) -> str | None:
    """E.164 form, or None when the number is not a valid phone number."""
    try:
        parsed = phonenumbers.parse(number, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
