"""The password policy engine: each rule at its boundary, Entra-style fuzzy scoring, peer vectors.

Ported peer vectors (behaviour, not code), adapted to this policy's floor of 8 characters:
- LTB Self Service Password, tests/CheckPasswordTest.php (check_password_strength): tooshort,
  toobig, sameasold, sameaslogin, minlower/minupper/mindigit/minspecial and notcomplex,
  forbiddenwords, forbiddenldapfields, insufficiententropy (zxcvbn score < pwd_min_entropy).
- Keycloak, testsuite policy/PasswordPolicyTest.java: testLength (length(8): "1234567" fails
  with parameter 8, "12345678" passes), testNotUsername ("jdoe" as jdoe's password) and
  testComplex (password equal to the username "12aaBB&-").
"""

from __future__ import annotations

import sys
from pathlib import Path

# run from a checkout without installing the package (pyproject sets no pythonpath)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.backend import PasswordCheck
from kiosk.engine.config import Password
from kiosk.engine.password_fuzzy import (
    MIN_TERM_LENGTH,
    TermIndex,
    common_index,
    common_passwords,
    find_substrings,
    fold,
    personal_terms,
    score,
)
from kiosk.engine.passwords import (
    SCAN_LIMIT,
    PasswordPolicy,
    character_classes,
    normalize_password,
)

STRONG = "Vq7#mZ2!kR9x"  # 12 random characters: no rule but length cares about it
ORG = "Example Corp"


def policy(org: str = ORG, **cfg: object) -> PasswordPolicy:
    return PasswordPolicy(Password(**cfg), org)  # type: ignore[arg-type]


def failed(check: PasswordCheck) -> list[str]:
    return [v.rule for v in check.violations]


def params(check: PasswordCheck, rule: str) -> dict[str, object]:
    return next(v.params for v in check.violations if v.rule == rule)


def points(password: str, *terms: str) -> int:
    """Fuzzy points of `password` against custom terms only (no common list)."""
    folded = fold(normalize_password(password))
    return score(folded, TermIndex(terms, "custom").find(folded)).points


# ---- length ----------------------------------------------------------------------------------


def test_default_min_length_boundary() -> None:
    p = policy()
    short = p.check(STRONG[:11])
    assert failed(short) == ["too_short"]
    assert params(short, "too_short") == {"min": 12, "length": 11}
    assert "at least 12 characters" in short.violations[0].message
    assert p.check(STRONG).ok


def test_configured_min_length_of_8() -> None:
    p = policy(min_length=8)
    assert failed(p.check("Vq7#mZ2")) == ["too_short"]
    assert params(p.check("Vq7#mZ2"), "too_short") == {"min": 8, "length": 7}
    assert p.check("Vq7#mZ2!").ok


def test_max_length_boundary_is_never_truncated() -> None:
    p = policy()
    longest = ("Vq7#mZ2!kR9x-" * 20)[:256]
    assert p.check(longest).ok
    too_long = p.check(longest + "y")
    assert failed(too_long) == ["too_long"]
    assert params(too_long, "too_long") == {"max": 256, "length": 257}


def test_configured_max_length() -> None:
    p = policy(max_length=64)
    base = ("Vq7#mZ2!kR9x-" * 5)[:64]
    assert p.check(base).ok
    assert failed(p.check(base + "Q")) == ["too_long"]


def test_length_counts_code_points_after_nfkc() -> None:
    p = policy()
    # "e" + combining acute is one code point after NFKC: 12 typed, 11 counted
    assert failed(p.check("Vq7#mZ2!kRe\u0301")) == ["too_short"]
    # the ligature "ﬃ" is three letters after NFKC: 10 typed, 12 counted
    assert p.check("Vq7#mZ2!k\ufb03").ok
    # astral characters (emoji) count once each
    assert params(p.check("🔑" * 11), "too_short")["length"] == 11


def test_unicode_and_spaces_are_allowed() -> None:
    p = policy()
    for pw in [
        "correct horse battery staple",
        "Grüße aus Köln, 東京タワー!",
        "пароль не угадать никогда",
        "  leading and trailing spaces  ",
        "🔑🐢🌵 under the bridge 🌉",
    ]:
        check = p.check(pw)
        assert check.ok, (pw, check.violations)


# ---- normalisation and control characters ------------------------------------------------------


def test_full_width_letters_are_normalised() -> None:
    assert normalize_password("Ｐａｓｓ　１２") == "Pass 12"
    p = policy()
    check = p.check("Ｐａｓｓｗｏｒｄ１２３４５６")  # "Password123456" in full-width forms
    assert "banned" in failed(check)
    assert "too_short" not in failed(check)


def test_normalize_keeps_everything_else() -> None:
    assert normalize_password("  MiXeD case  ") == "  MiXeD case  "
    assert normalize_password("x" * 1000) == "x" * 1000


@pytest.mark.parametrize("char", ["\t", "\n", "\r", "\x00", "\x1b", "\x7f", "\x85", "\x9f"])
def test_control_characters_are_rejected(char: str) -> None:
    check = policy().check(f"Vq7#mZ2!{char}kR9x")
    assert failed(check) == ["control_chars"]
    assert params(check, "control_chars") == {"count": 1, "codes": [f"U+{ord(char):04X}"]}
    assert "control characters" in check.violations[0].message


def test_format_and_separator_characters_are_not_controls() -> None:
    # zero-width joiner (emoji sequences) and no-break space are ordinary text
    assert policy().check("Vq7#mZ2!kR9x\u200d\u00a0").ok


# ---- all at once, and the checklist --------------------------------------------------------------


def test_every_violation_is_reported_together() -> None:
    p = policy(require_classes=4, min_score=3)
    check = p.check("qwerty\t12", user_terms=["Pat"], current_password="qwerty\t12")
    assert failed(check) == [
        "too_short",
        "control_chars",
        "classes",
        "banned",
        "same_as_current",
        "weak",
    ]
    assert not check.ok
    for v in check.violations:
        assert v.message.endswith(".")
        assert "qwerty" not in v.message  # never echo the (masked) password


def test_rules_list_every_checked_rule_in_display_order() -> None:
    assert policy().check(STRONG).rules == [
        "too_short",
        "too_long",
        "control_chars",
        "banned",
        "personal",
    ]
    full = policy(require_classes=3, min_score=2).check(STRONG, current_password="x")
    assert full.rules == [
        "too_short",
        "too_long",
        "control_chars",
        "classes",
        "banned",
        "personal",
        "same_as_current",
        "weak",
    ]
    for check in (full, policy().check("")):
        assert set(failed(check)) <= set(check.rules)
        assert failed(check) == [r for r in check.rules if r in failed(check)]


def test_score_is_always_reported_for_the_meter() -> None:
    p = policy()
    assert p.check("").score == 0
    assert p.check("password").score == 0
    assert p.check("correct horse battery staple").score == 4


# ---- banned: common passwords and custom terms -------------------------------------------------


def test_bundled_list_has_at_least_10000_common_passwords() -> None:
    assert len(common_passwords()) >= 10_000
    assert {"password", "123456", "qwerty", "iloveyou"} <= common_passwords()
    assert common_index() is common_index()  # built once per process
    assert policy()._common is policy(min_length=8)._common


@pytest.mark.parametrize("pw", ["password", "baseball", "P@ssw0rd", "QWERTY123", "iloveyou"])
def test_common_passwords_are_banned(pw: str) -> None:
    check = policy(min_length=8).check(pw)
    assert failed(check) == ["banned"]
    assert params(check, "banned")["reason"] == "common"


@pytest.mark.parametrize(
    "pw",
    [
        "password123456",
        "Password123456!",
        "P@ssw0rd123456",
        "passw0rd12345678",
        "123456password",
        "qwertyuiop123",
        "iloveyou1234",
        "Summer2024!!",
    ],
)
def test_common_password_variants_are_banned(pw: str) -> None:
    check = policy().check(pw)
    assert failed(check) == ["banned"]
    assert params(check, "banned")["reason"] in {"common", "similar"}
    assert params(check, "banned")["points"] < 5


def test_custom_terms() -> None:
    p = policy(org="Fabrikam", min_length=8, banned_terms=["kioskcorp", "helpdesk"])
    exact = p.check("KioskCorp")
    assert failed(exact) == ["banned"]
    assert params(exact, "banned")["reason"] == "custom"
    assert "kiosk" not in exact.violations[0].message.lower()  # the term would give it away
    assert failed(p.check("Kiosk-Corp!!")) == ["banned"]  # one insertion away, plus "!"
    assert failed(p.check("helpdesk2024")) == ["banned"]
    assert p.check("the helpdesk never sleeps").ok  # one term in a long passphrase is fine
    assert p.check("Kiosk-Corp!!", user_terms=[]).ok is False
    assert policy(org="Fabrikam").check("Kiosk-Corp!!").ok  # not banned without the term


# ---- Entra-style fuzzy scoring ------------------------------------------------------------------


def test_microsoft_worked_examples() -> None:
    # "contoso" on the custom list, "blank" on the global list (Microsoft's scenario)
    assert points("C0ntos0Blank12", "contoso", "blank") == 4  # [contoso] [blank] [l] [2]
    assert points("ContoS0Bl@nkf9!", "contoso", "blank") == 5  # [contoso] [blank] [f] [9] [!]
    p = policy(banned_terms=["contoso", "blank"])
    assert failed(p.check("C0ntos0Blank12")) == ["banned"]
    assert p.check("ContoS0Bl@nkf9!").ok


def test_substitutions_are_undone_before_matching() -> None:
    assert fold("P@$$w0rd1") == "passwordl"
    assert points("P@$$w0rd1", "password") == 2  # [password] [l]
    assert points("PASSWORD", "password") == 1


@pytest.mark.parametrize(
    ("pw", "expected"),
    [
        ("abcdef", 1),  # exact
        ("abcdeg", 1),  # last character changed
        ("zbcdef", 1),  # first character changed
        ("abXcdef", 1),  # character inserted inside
        ("abcde", 1),  # trailing "f" removed
        ("bcdef", 1),  # leading "a" removed
        ("abcdefg", 2),  # appended "g" is found next to the exact term: [abcdef] [g]
        ("abdcef", 6),  # transposed: two edits, no match, 6 distinct characters
        ("abcxyz", 6),  # three edits
    ],
)
def test_terms_match_at_edit_distance_one(pw: str, expected: int) -> None:
    assert points(pw, "abcdef") == expected


def test_points_are_terms_plus_distinct_leftover_characters() -> None:
    assert points("abcdef!!!!!!??", "abcdef") == 3  # [abcdef] [!] [?]
    assert points("abcdefabcdef", "abcdef") == 1  # one term, however often it appears
    assert points("abcdef-ghijkl", "abcdef", "ghijkl") == 3  # [abcdef] [-] [ghijkl]
    assert points("aaaaaaaaaaaaaaaa") == 1
    check = policy().check("a1a1a1a1a1a1a1a1")  # two distinct characters, nothing listed
    assert failed(check) == ["banned"]


def test_fuzzy_min_points_is_configurable() -> None:
    pw = "abcdef!!!!!!??"
    assert failed(policy(banned_terms=["abcdef"]).check(pw)) == ["banned"]
    assert policy(banned_terms=["abcdef"], fuzzy_min_points=3).check(pw).ok


def test_short_terms_do_not_match_inside_a_password() -> None:
    assert MIN_TERM_LENGTH == 4
    assert personal_terms(["Li", "Bo"]) == frozenset()
    assert points("xyzw-qrst-mnop", "abc") == 13


def test_user_names_count_as_terms() -> None:
    p = policy()
    names = ["Zbigniew", "Brzezinski", "zbrzezinski"]
    check = p.check("ZbigniewBrzezinski!!x", user_terms=names)  # [zbigniew] [brzezinski] [!] [x]
    assert failed(check) == ["personal"]
    assert params(check, "personal") == {"reason": "contains", "points": 4, "min_points": 5}
    assert "your name" in check.violations[0].message
    assert p.check("ZbigniewBrzezinski!!x").ok  # the same password for someone else
    assert p.check("Zbigniew under a blue moon", user_terms=names).ok  # enough points
    # "smith!" is also one edit from the common "smith1": both reasons are shown
    jsmith = p.check("JohnSmith!!!!x", user_terms=["John", "Smith"])
    assert failed(jsmith) == ["banned", "personal"]


def test_organisation_name_counts_as_a_term() -> None:
    check = policy(org="Contoso").check("Contoso2024!!x")
    assert "personal" in failed(check)
    assert policy(org="Fabrikam").check("Contoso2024!!x").ok


def test_personal_terms_split_names_and_logins() -> None:
    terms = personal_terms(["Mary-Ann O'Neil", "j.doe", "Example Corp"])
    assert {"mary", "oneil", "maryannoneil", "jdoe", "example", "corp", "examplecorp"} <= terms
    assert find_substrings("xxjdoexx", ["jdoe"], "personal")[0].start == 2


def test_matcher_agrees_with_brute_force_on_samples() -> None:
    idx = TermIndex(["blank", "contoso", "abcdef", "qwer"], "custom")
    for text in ["contosoblankl2", "blnak", "qwxer", "abcabcdefdef", "qqwerr", "contos"]:
        assert {(m.start, m.end) for m in idx.find(text)} == brute_force_spans(text, idx.terms)


# ---- composition, strength, same as current ----------------------------------------------------


def test_require_classes() -> None:
    p = policy(require_classes=3)
    check = p.check("correct horse battery staple")
    assert failed(check) == ["classes"]
    assert params(check, "classes") == {"required": 3, "present": 2, "missing": ["upper", "digit"]}
    assert p.check("Correct horse battery staple").ok
    assert p.check("correct horse battery staple 7").ok
    assert "classes" not in policy().check("correct horse battery staple").rules


def test_character_classes() -> None:
    assert character_classes("aB3 ") == {"lower", "upper", "digit", "other"}
    assert character_classes("東京") == {"other"}  # no case: counts as other
    assert character_classes("ÄÖÜß") == {"lower", "upper"}


def test_min_score() -> None:
    strict = policy(min_score=3)
    check = strict.check("abcdefghijklmnop")  # not listed, but a plain sequence
    assert failed(check) == ["weak"]
    assert params(check, "weak") == {"score": check.score, "min": 3}
    assert check.score < 3
    assert strict.check("correct horse battery staple").ok
    assert policy().check("abcdefghijklmnop").ok  # min_score 0: meter only
    assert "weak" not in policy().check(STRONG).rules


def test_user_terms_lower_the_strength_score() -> None:
    pw = "Wilhelmina Fotheringham"
    p = policy()
    assert p.check(pw, user_terms=["Wilhelmina", "Fotheringham"]).score < p.check(pw).score


def test_same_as_current() -> None:
    p = policy()
    check = p.check(STRONG, current_password=STRONG)
    assert failed(check) == ["same_as_current"]
    assert check.violations[0].message.startswith("Choose a password that is different")
    # compared after NFKC: the full-width spelling is the same password
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in STRONG)
    assert failed(p.check(STRONG, current_password=fullwidth)) == ["same_as_current"]
    assert p.check(STRONG, current_password=STRONG.lower()).ok  # case matters
    assert "same_as_current" not in p.check(STRONG).rules


# ---- peer vectors --------------------------------------------------------------------------------


def test_ltb_self_service_password_vectors() -> None:
    # LTB: pwd_min_length 6 / pwd_max_length 12, login "coudot", old password "secret"
    p = policy(min_length=8, max_length=12)
    login, old = ["coudot"], "secret"
    assert "personal" in failed(p.check("coudot", user_terms=login, current_password=old))
    assert "same_as_current" in failed(p.check("secret", user_terms=login, current_password=old))
    assert "too_long" in failed(p.check("!1verylongPassword", current_password=old))
    assert "too_short" in failed(p.check("!1Pa", current_password=old))
    # minlower/minupper/mindigit/minspecial become "all 4 classes"; notcomplex is 3 of 4
    four = policy(min_length=8, require_classes=4)
    for pw in ["password", "!password", "!1password", "!1PASSWORD"]:
        assert "classes" in failed(four.check(pw))
    three = policy(min_length=8, require_classes=3)
    assert "classes" in failed(three.check("simplest"))
    assert "classes" not in failed(three.check("C0mplexity"))
    # forbiddenwords: the words alone are banned; LTB also rejects "working at companyname is
    # fun", Entra scoring accepts it (one banned term plus 13 characters of the user's own)
    words = policy(min_length=8, banned_terms=["companyname", "trademark"])
    assert failed(words.check("companyname")) == ["banned"]
    assert failed(words.check("trademark")) == ["banned"]
    assert words.check("working at companyname is fun").ok
    # forbiddenldapfields: cn "common name", sn "surname"
    fields = ["common name", "surname"]
    assert "personal" in failed(words.check("my surname", user_terms=fields))
    assert "personal" in failed(words.check("common name", user_terms=fields))
    # insufficiententropy: pwd_min_entropy 3 is zxcvbn score 3
    entropy = policy(min_length=8, min_score=3)
    assert "weak" in failed(entropy.check("secret12", user_terms=["johnsmith"]))
    assert entropy.check("Th!Sis@Str0ngP@ss0rd", user_terms=["johnsmith"]).ok


def test_keycloak_vectors() -> None:
    p = policy(min_length=8)
    assert params(p.check("1234567"), "too_short") == {"min": 8, "length": 7}
    assert "too_short" not in failed(p.check("12345678"))
    same = p.check("jdoe", user_terms=["jdoe"])  # notUsername
    assert "personal" in failed(same)
    assert params(same, "personal")["reason"] == "same"
    assert "personal" not in failed(p.check("ab&d1234", user_terms=["jdoe"]))
    complex_ = policy(min_length=8, require_classes=4)
    assert "personal" in failed(complex_.check("12aaBB&-", user_terms=["12aaBB&-"]))
    assert "personal" not in failed(complex_.check("12aaBB&-", user_terms=["jdoe"]))


# ---- robustness --------------------------------------------------------------------------------


def test_very_long_input_is_bounded_and_still_rejected() -> None:
    check = policy().check(("Vq7#mZ2!kR9x-" * 1000) + "password")
    assert failed(check) == ["too_long"]
    assert params(check, "too_long")["length"] == 13_008
    assert SCAN_LIMIT >= 256 * 4  # every password that can pass is scanned in full


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=300))
def test_normalisation_is_idempotent(pw: str) -> None:
    once = normalize_password(pw)
    assert normalize_password(once) == once


_POLICY = policy(require_classes=2, min_score=2, banned_terms=["contoso", "blank"])


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(exclude_categories=()), max_size=300),
    st.lists(st.text(max_size=20), max_size=3),
    st.none() | st.text(max_size=30),
)
def test_check_never_raises(pw: str, names: list[str], current: str | None) -> None:
    check = _POLICY.check(pw, user_terms=names, current_password=current)
    assert check.ok == (not check.violations)
    assert 0 <= check.score <= 4
    assert set(failed(check)) <= set(check.rules)
    assert all(v.message for v in check.violations)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="abcdefl0@$ -", max_size=24),
    st.lists(st.text(alphabet="abcdefl", min_size=4, max_size=7), min_size=1, max_size=4),
)
def test_matcher_agrees_with_brute_force(text: str, terms: list[str]) -> None:
    idx = TermIndex(terms, "custom")
    folded = fold(text)
    assert {(m.start, m.end) for m in idx.find(folded)} == brute_force_spans(folded, idx.terms)


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet="abcdefl0@$ -", min_size=1, max_size=6),
    st.integers(min_value=2, max_value=8),
    st.text(alphabet="abcdef", max_size=3),
    st.lists(st.text(alphabet="abcdefl", min_size=4, max_size=7), min_size=1, max_size=4),
)
def test_matcher_agrees_with_brute_force_on_repeated_pastes(
    unit: str, times: int, tail: str, terms: list[str]
) -> None:
    """A repeated stretch is walked once and its matches shifted (the scan's defence against
    "aaaa…" pastes): the spans must be those of a walk at every position."""
    idx = TermIndex(terms, "custom")
    folded = fold(unit * times + tail)
    assert {(m.start, m.end) for m in idx.find(folded)} == brute_force_spans(folded, idx.terms)


def brute_force_spans(text: str, terms: frozenset[str]) -> set[tuple[int, int]]:
    """Windows of 4+ characters one edit from a term (insertions inside the window only)."""

    spans = set()
    for start in range(len(text)):
        for end in range(start + MIN_TERM_LENGTH, len(text) + 1):
            w = text[start:end]
            for t in terms:
                same = len(w) == len(t) and sum(a != b for a, b in zip(w, t, strict=True)) <= 1
                dropped = len(w) == len(t) - 1 and w in {t[:i] + t[i + 1 :] for i in range(len(t))}
                inner = {w[:i] + w[i + 1 :] for i in range(1, len(w) - 1)}
                inserted = len(w) == len(t) + 1 and t in inner
                if same or dropped or inserted:
                    spans.add((start, end))
    return spans


def test_the_meter_scores_a_bounded_prefix_with_the_rust_port_where_installed() -> None:
    """One visitor's 100-character l33t paste must not stall everybody's check: the meter
    scores the first ZXCVBN_PREFIX characters (the same scores as the whole on ordinary input),
    with zxcvbn-rs-py (no global lock) where its wheel exists, Python zxcvbn elsewhere."""
    from zxcvbn import zxcvbn

    from kiosk.engine import passwords

    for text in ["Orange-bicycle-winter-9", "Tr0ub4dor&3", "password1", "correct horse battery",
                 "4@3$1!0|7+" * 10]:
        python = zxcvbn(passwords.meter_text(text), max_length=passwords.ZXCVBN_PREFIX)
        assert passwords.strength(text) == python["score"], text
    assert passwords.ZXCVBN_PREFIX <= 40


def test_the_meter_stops_before_the_thirteenth_l33t_character() -> None:
    """zxcvbn tries every l33t reading: 40 characters of its l33t table cost the Rust port
    130-200 ms holding the GIL. The meter sees at most L33T_BUDGET of them; plain text, and
    the rest of the policy, are not cut."""
    from kiosk.engine import passwords

    crafted = "4@8({[<3691!|70$5+%2" * 5
    assert passwords.meter_text(crafted) == crafted[:passwords.L33T_BUDGET]
    assert passwords.meter_text("Sommer2024!Sommer2024!") == "Sommer2024!Sommer2024!"
    assert passwords.meter_text("a1" * 30) == ("a1" * 12 + "a")
    assert passwords.meter_text("correct horse battery staple and more words") == (
        "correct horse battery staple and more wo")
    policy = PasswordPolicy(Password(min_length=8, max_length=256), "Contoso")
    assert not policy.check(crafted + "\x07").ok  # the whole is still checked: control char
    import platform

    if platform.system() == "Linux" and platform.machine() == "x86_64":
        assert passwords._rust_zxcvbn is not None  # the dependency pyproject.toml asks for
