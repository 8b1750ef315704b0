"""`policy explain`: each demo user's verdicts, methods and rules, and the policy warning that
a policy leaves administrators unable to reset."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.engine.clock import FrozenClock
from kiosk.engine.config import parse_policy
from kiosk.engine.engine import Engine
from kiosk.engine.explain import Explanation, explain, policy_warnings
from tests.support.engine import make_engine


def verdicts(found: Explanation) -> dict[str, str]:
    return {v.purpose: ("yes" if v.allowed else v.reason) for v in found.verdicts}


def test_alice_is_eligible_with_three_usable_methods(engine: Engine) -> None:
    alice = explain(engine, "Alice")
    assert alice.found and not alice.is_admin and alice.username == "alice"
    assert set(verdicts(alice).values()) == {"yes"}
    assert alice.usable == ["email", "mobile", "questions"] and alice.needed == 1
    assert "sspr-users" in alice.groups  # through the nested group staff
    assert any("sspr.methods_required" in r for r in alice.rules)
    assert alice.warnings == []


def test_bob_must_use_his_authenticator(engine: Engine) -> None:
    bob = explain(engine, "bob")
    assert bob.usable == ["email", "authenticator"]
    assert any("authenticator.required_if_registered" in r for r in bob.rules)


def test_carol_is_an_administrator_needing_two_methods_without_questions(
        engine: Engine) -> None:
    carol = explain(engine, "carol")
    assert carol.is_admin and carol.needed == 2
    assert "questions" not in carol.offered
    assert carol.usable == ["email", "mobile"]
    assert verdicts(carol)["reset"] == "yes"
    assert any("never security questions" in r for r in carol.rules)


def test_dave_is_locked_and_may_unlock(engine: Engine) -> None:
    dave = explain(engine, "dave")
    assert dave.locked and verdicts(dave)["unlock"] == "yes"
    assert any("locked" in r for r in dave.rules)
    assert "locked" in dave.lines()[0]


def test_erin_has_nothing_registered_and_is_asked_to_register(engine: Engine) -> None:
    erin = explain(engine, "erin")
    assert erin.registered == [] and erin.usable == []
    assert verdicts(erin)["reset"].startswith("not registered enough")
    assert verdicts(erin)["register"] == "yes"
    assert any("asked to register after signing in: 1 method(s) missing" in r
               for r in erin.rules)


def test_frank_is_out_of_scope(engine: Engine) -> None:
    frank = explain(engine, "frank")
    assert verdicts(frank)["reset"].startswith("not in scope")
    assert "sspr-users" in verdicts(frank)["reset"]
    assert verdicts(frank)["change"] == "yes"  # anyone who knows the password may change it
    assert frank.usable == ["email", "mobile"]


def test_an_unknown_name_is_said_to_be_unknown(engine: Engine) -> None:
    nobody = explain(engine, "nobody")
    assert not nobody.found and "no such user" in nobody.lines()[0]


def test_email_and_questions_lock_every_administrator_out(tmp_path: Path) -> None:
    policy = parse_policy({"sspr": {"methods": ["email", "questions"]}})
    [warning] = policy_warnings(policy)
    assert warning.startswith("sspr.methods: no administrator can reset")
    assert "only email" in warning
    engine = make_engine(tmp_path, FrozenClock(), sspr={
        "enabled": "selected", "groups": ["sspr-users"], "methods": ["email", "questions"]})
    carol = explain(engine, "carol")
    assert verdicts(carol)["reset"].startswith("not registered enough")
    assert carol.warnings == [warning] and "warning: sspr.methods" in "\n".join(carol.lines())
    # an ordinary user is told the same policy-wide warning, and is fine herself
    alice = explain(engine, "alice")
    assert verdicts(alice)["reset"] == "yes" and alice.warnings == [warning]


@pytest.mark.parametrize("methods", [["email", "mobile"], ["authenticator", "office"],
                                     ["email", "mobile", "questions"]])
def test_two_methods_besides_questions_leave_administrators_a_way(methods: list[str]) -> None:
    assert policy_warnings(parse_policy({"sspr": {"methods": methods}})) == []


def test_an_explanation_survives_json(engine: Engine) -> None:
    carol = explain(engine, "carol")
    assert Explanation.from_json(carol.to_json()) == carol


@pytest.mark.parametrize(("directory", "says"), [
    ({}, "kept by the kiosk"),
    ({"directory": {"kind": "ldap"},
      "ldap": {"urls": ["ldaps://ldap.corp.example"], "user_base": "ou=people,dc=corp"}},
     "ppolicy"),
    ({"directory": {"kind": "ldap"},
      "ldap": {"flavour": "ad", "urls": ["ldaps://dc1.corp.example"],
               "user_base": "OU=People,DC=corp"}}, "minPwdAge"),
])
def test_the_directory_says_what_holds_a_reset_and_a_change(
        directory: dict[str, object], says: str) -> None:
    from kiosk.engine.explain import _directory_rules

    rules = " ".join(_directory_rules(parse_policy(directory)))
    assert says in rules
    if says == "minPwdAge":  # an AD reset is administrative; a change is the user's own
        assert "administrative reset" in rules and "user's own change" in rules
