"""The policy file's validation, and the normalisation and masking functions (hypothesis)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kiosk.engine.config import PolicyError, load_policy, parse_policy
from kiosk.engine.text import mask_email, mask_phone, normalize_answer, normalize_username


def problems(data: dict) -> list[str]:  # type: ignore[type-arg]
    with pytest.raises(PolicyError) as err:
        parse_policy(data)
    return err.value.problems


def test_defaults_follow_the_design() -> None:
    policy = parse_policy({})
    assert policy.codes.length == 8 and policy.codes.lifetime_minutes == 10
    assert policy.codes.resend_after_seconds == 60 and policy.flow.lifetime_minutes == 15
    assert (policy.throttle.verify_failures, policy.throttle.verify_window_minutes) == (5, 60)
    assert (policy.throttle.failed_flows, policy.throttle.failed_flows_window_hours) == (5, 24)
    assert (policy.throttle.sends, policy.throttle.sends_window_minutes) == (10, 10)
    assert policy.throttle.block_hours == 24
    assert policy.password.min_length == 12 and policy.password.max_length == 256
    assert policy.password.history == 5
    assert policy.authenticator.required_if_registered and policy.privacy.enumeration_safe


@pytest.mark.parametrize(("data", "expected"), [
    ({"sspr": {"methods_required": 3}}, "sspr.methods_required: must be between 1 and 2 (got 3)"),
    ({"sspr": {"methods_required": 0}}, "sspr.methods_required: must be between 1 and 2 (got 0)"),
    ({"questions": {"to_register": 6}}, "questions.to_register: must be between 3 and 5"),
    ({"questions": {"to_reset": 2}}, "questions.to_reset: must be between 3 and 5"),
    ({"questions": {"to_register": 3, "to_reset": 4}}, "questions.to_reset: must be at most"),
    ({"registration": {"reconfirm_days": 731}},
     "registration.reconfirm_days: must be between 0 and 730"),
    ({"registration": {"reconfirm_days": -1}}, "registration.reconfirm_days"),
    ({"password": {"min_length": 7}}, "password.min_length: must be between 8 and 256"),
    ({"sspr": {"enabled": "some"}}, "sspr.enabled: must be one of 'none', 'selected' or 'all'"),
    ({"sspr": {"enabled": "selected"}}, "sspr.groups: at least one group"),
    ({"sspr": {"methods": ["email", "carrier-pigeon"]}}, "sspr.methods.1: must be one of"),
    ({"sspr": {"colour": "red"}}, "sspr.colour: unknown key"),
    ({"password": {"banned_terms": ["abc"]}}, "password.banned_terms: each term must be 4-16"),
    ({"codes": {"length": "eight"}}, "codes.length:"),
])
def test_each_error_names_the_key_and_what_is_allowed(data: dict, expected: str) -> None:  # type: ignore[type-arg]
    assert any(p.startswith(expected) for p in problems(data)), problems(data)


def test_every_problem_is_reported_at_once() -> None:
    found = problems({"sspr": {"methods_required": 3}, "codes": {"length": 99},
                      "flow": {"lifetime_minutes": 1}})
    assert len(found) == 3


def test_real_delivery_without_a_relay_is_refused_naming_the_key() -> None:
    """delivery.kind = 'real' with no SMTP host and no gateway sent nothing to anybody."""
    assert problems({"delivery": {"kind": "real"}})[0].startswith("delivery.smtp.host:")
    smtp_only = problems({"delivery": {"kind": "real", "smtp": {"host": "mail.example"}}})
    assert smtp_only == ["delivery.gateway.url: needed when delivery.kind = 'real' and "
                         "sspr.methods offers mobile and office (or leave mobile and office "
                         "out of sspr.methods)"]
    parse_policy({"delivery": {"kind": "real", "smtp": {"host": "mail.example"}},
                  "sspr": {"methods": ["email", "questions"]}})
    gateway_only = problems({"delivery": {"kind": "real", "gateway": {"url": "https://sms"}}})
    assert gateway_only[0].startswith("delivery.smtp.host: needed")


def test_problems_of_one_section_and_across_sections_come_in_one_round() -> None:
    """The banned-term error and the missing relay used to show only on a second run."""
    found = problems({"password": {"min_length": 3, "banned_terms": ["ab", "abcd", "x"]},
                      "delivery": {"kind": "real"}, "directory": {"kind": "ldap"},
                      "sspr": {"methods_required": 5}})
    keys = [p.split(":", 1)[0] for p in found]
    assert keys == ["sspr.methods_required", "password.min_length", "password.banned_terms",
                    "ldap.urls", "ldap.user_base", "delivery.smtp.host"], found
    assert "'ab', 'x'" in found[2]


def test_boundaries_accepted() -> None:
    parse_policy({"sspr": {"methods_required": 2}, "questions": {"to_register": 5,
                                                                 "to_reset": 5},
                  "registration": {"reconfirm_days": 730}, "password": {"min_length": 8}})


def test_files(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[sspr]\nenabled = "all"\nmethods_required = 2\n', encoding="utf-8")
    assert load_policy(good).sspr.methods_required == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[sspr\nenabled = ", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(bad)
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.toml")


# ---------------------------------------------------------------- normalisation and masks


@given(st.text(max_size=80))
def test_answer_normalisation_is_idempotent(text: str) -> None:
    once = normalize_answer(text)
    assert normalize_answer(once) == once
    assert once == once.strip() and "  " not in once


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüéñ", min_size=1, max_size=20),
       st.text(alphabet=" \t\u3000", min_size=1, max_size=3))
def test_answers_ignore_case_and_spacing(word: str, space: str) -> None:
    assert normalize_answer(f"{space}{word.upper()}{space}{word}") == normalize_answer(
        f"{word.lower()} {word}")


def test_answer_examples() -> None:
    assert normalize_answer("  Spring   FIELD ") == "spring field"
    assert normalize_answer("Ｒｅｘ") == "rex"  # full-width letters (NFKC)
    assert normalize_answer("Straße") == normalize_answer("STRASSE")


# characters whose case folding or compatibility form changes under a second pass unless the
# normalisation is built for it: sharp s, combining marks (also the iota subscript), ligatures,
# title case, dotted I, and the spaces NFKC or the collapsing must turn into one plain space
TRICKY = list("ßẞſİıǅǈﬀﬅΐΰᾳῼ\u0301\u0308\u0345\u0342\u0327\u00a0\u2003\u3000\u200b \t")


@example("tomaß\u0301")
@example("ß\u0345")
@given(st.text(st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(TRICKY)),
               max_size=40))
def test_username_normalisation_is_idempotent(text: str) -> None:
    once = normalize_username(text)
    assert normalize_username(once) == once
    assert once == once.strip() and "  " not in once


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzÄÖÜß", min_size=1, max_size=12),
       st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
       st.lists(st.sampled_from([" ", "\t", "\u00a0", "\u2003", "\u3000"]), min_size=1,
                max_size=5))
def test_usernames_ignore_case_and_spacing(first: str, last: str, spaces: list[str]) -> None:
    typed = f"{spaces[0]}{first.upper()}{''.join(spaces)}{last}{spaces[-1]}"
    assert normalize_username(typed) == normalize_username(f"{first} {last}")


def test_username_examples() -> None:
    for typed in ("john  doe", " john doe ", "john\u00a0 doe", "JOHN\tDoe", "John\u3000Doe"):
        assert normalize_username(typed) == "john doe", repr(typed)
    assert normalize_username("tomaß\u0301") == normalize_username("TOMASS\u0301") == "tomas\u015b"
    assert normalize_username("Ａｌｉｃｅ") == "alice"  # full-width letters (NFKC)


emails = st.emails()


@given(emails)
def test_email_masks_show_one_letter_each_side_at_most(address: str) -> None:
    masked = mask_email(address)
    local, _, domain = address.rpartition("@")
    tld = domain.rpartition(".")[2]
    # only the first letter of the name and of the domain, and the top-level domain, show
    assert masked == f"{local[0]}•••@{domain[0]}•••.{tld}"


@given(st.from_regex(r"\+1[2-9]\d{2}[2-9]\d{6}", fullmatch=True))
def test_phone_masks_show_the_country_and_two_digits(number: str) -> None:
    masked = mask_phone(number)
    assert masked.endswith(number[-2:])
    assert sum(ch.isdigit() for ch in masked) <= 2 + 3  # country code + last two


def test_mask_examples() -> None:
    assert mask_email("alice@contoso.org") == "a•••@c•••.org"
    assert mask_phone("+14255550142") == "+1 •• •• ••42"
    assert mask_email("garbage") == "•••"


def test_the_method_vocabulary_has_one_home() -> None:
    """Every list of method kinds derives from kiosk.backend.MethodKind; the policy's Literal
    (pydantic needs one to name the allowed values) must name the same kinds."""
    from typing import get_args

    from kiosk.backend import METHOD_KINDS, MethodKind
    from kiosk.engine.config import ALL_METHODS, MethodName
    from kiosk.engine.methods import METHODS

    # the registrable kinds; a helpdesk pass is a kind of its own, issued, never registered
    assert get_args(MethodName) == ALL_METHODS == METHOD_KINDS == tuple(
        k for k in MethodKind if k is not MethodKind.PASS)
    assert tuple(METHODS) == (*METHOD_KINDS, MethodKind.PASS)
