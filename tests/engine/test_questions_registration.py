"""Security questions at reset and at registration, and the registration flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.backend import (
    FlowState,
    InvalidInput,
    NotEligible,
    QuestionAnswer,
    Step,
    WrongAnswers,
    WrongCode,
    WrongPassword,
)
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from kiosk.engine.questions import PREDEFINED, validate_entries
from kiosk.engine.totp import code_at
from tests.support.engine import TERMINAL, drawn_questions, last_code, make_engine

ALICE = {"pet": "rex", "city": "springfield", "nickname": "ally"}


def test_the_pool_has_at_least_twenty_questions() -> None:
    assert len(PREDEFINED) >= 20


def test_any_wrong_answer_draws_a_new_set(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, questions={"to_register": 3, "to_reset": 3})
    state = engine.session(TERMINAL).questions(engine.session(TERMINAL).start("reset",
                                                                              "alice").flow_id)
    answers = [ALICE[q.id] for q in state.questions]
    answers[-1] = "wrong"
    with pytest.raises(WrongAnswers):
        engine.session(TERMINAL).answer(state.flow_id, answers)
    redrawn = engine.session(TERMINAL).questions(state.flow_id)
    assert redrawn.step == Step.ANSWER_QUESTIONS and len(redrawn.questions) == 3
    # the old answers are not accepted against the new draw blindly: answer the new set
    ok = engine.session(TERMINAL).answer(state.flow_id, [ALICE[q.id] for q in redrawn.questions])
    assert ok.step == Step.NEW_PASSWORD


def test_a_random_subset_is_drawn_when_more_are_registered(tmp_path: Path) -> None:
    engine2 = make_engine(tmp_path, questions={"to_register": 5, "to_reset": 3})
    s = at_registration(engine2, "alice", "Alice-demo-pass-1")
    five = {"pet": "rex", "city": "springfield", "nickname": "ally", "car": "beetle",
            "book": "dune"}
    engine2.session(TERMINAL).set_questions(s.flow_id, [
        QuestionAnswer(question_id=q, answer=a) for q, a in five.items()])
    engine2.session(TERMINAL).finish_registration(s.flow_id)
    drawn = drawn_questions(engine2, "alice", 25)
    assert all(len(asked) == 3 for asked in drawn)
    assert len({frozenset(asked) for asked in drawn}) > 1


def test_registration_rules_refuse_bad_answers() -> None:
    ok = [("pet", None, "rex"), ("city", None, "springfield"), ("nickname", None, "ally")]
    assert validate_entries(ok, 3) == []
    assert validate_entries(ok[:2], 3)  # too few
    assert validate_entries([("pet", None, "rex"), ("city", None, "REX "),
                             ("nickname", None, "ally")], 3)  # alike after normalising
    assert validate_entries([("pet", None, "my pet rex"), *ok[1:]], 3)  # question's word
    assert validate_entries([("pet", None, "ab"), *ok[1:]], 3)  # 2 chars
    assert validate_entries([("pet", None, "x" * 41), *ok[1:]], 3)  # 41 chars
    assert validate_entries([("pet", None, "abc"), *ok[1:]], 3) == []  # 3 chars
    assert validate_entries([("pet", None, "x" * 40), *ok[1:]], 3) == []  # 40 chars
    assert validate_entries([("", "Y?", "answer1"), *ok[1:]], 3)  # custom: 2 chars
    assert validate_entries([("", "Why?", "answer1"), *ok[1:]], 3) == []
    assert validate_entries([("", "x" * 201, "answer1"), *ok[1:]], 3)
    assert validate_entries([("nope", None, "answer1"), *ok[1:]], 3)


def test_more_questions_than_the_minimum_up_to_the_pool(engine: Engine) -> None:
    """Issue 13: a person may register more than `questions.to_register` (3), up to the
    pool's size; resets then draw 3 of all of them."""
    assert validate_entries(ANSWERS_FOR_ALL[:5], 3) == []
    assert validate_entries(ANSWERS_FOR_ALL, 3) == []  # every question of the pool
    assert validate_entries([*ANSWERS_FOR_ALL, ("", "Why not?", "because")], 3)  # one more
    flow = signed_in(engine)
    entries = [QuestionAnswer(question_id=q, answer=a) for q, _, a in ANSWERS_FOR_ALL[:6]]
    with pytest.raises(InvalidInput):  # more than the pool holds
        engine.session(TERMINAL).set_questions(flow, [
            *entries, *[QuestionAnswer(question_id="", custom_text=f"Question {n}?",
                                       answer=f"answer number {n}")
                        for n in range(len(PREDEFINED))]])
    state = engine.session(TERMINAL).set_questions(flow, entries)
    assert "questions" in [m.kind.value for m in state.registration.registered]
    engine.session(TERMINAL).finish_registration(flow)
    drawn = drawn_questions(engine, "erin", 20)
    assert all(len(asked) == 3 for asked in drawn)
    assert len({frozenset(asked) for asked in drawn}) > 1
    assert set().union(*drawn) <= {q for q, _, _ in ANSWERS_FOR_ALL[:6]}


# one distinct answer of 3-40 characters for every predefined question
ANSWERS_FOR_ALL = [(qid, None, f"answer {chr(97 + n)}{chr(97 + n)}{n}")
                   for n, qid in enumerate(PREDEFINED)]


def signed_in(engine: Engine, user: str = "erin", password: str = "Erin-demo-pass-1") -> str:
    return at_registration(engine, user, password).flow_id


def at_registration(engine: Engine, user: str, password: str) -> FlowState:
    state = engine.session(TERMINAL).start("register", user)
    assert state.step == Step.SIGN_IN
    state = engine.session(TERMINAL).sign_in(state.flow_id, password)
    # an account with methods proves one more (two for an administrator) before changing them
    while state.step == Step.CHOOSE_METHOD:
        kind = next(m.kind.value for m in state.methods
                    if not m.passed and m.kind.value in ("email", "mobile"))
        state = engine.session(TERMINAL).send_code(state.flow_id, kind,
                                 "email" if kind == "email" else "text")
        assert state.challenge is not None
        state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                                   last_code(engine))
    assert state.step == Step.REGISTER and state.registration is not None
    return state


def test_erin_registers_email_questions_and_an_app_then_resets(engine: Engine,
                                                               clock: FrozenClock) -> None:
    flow = signed_in(engine)
    state = engine.session(TERMINAL).add_email(flow, "erin@contoso.org")
    assert state.challenge is not None and state.challenge.masked == "e•••@c•••.org"
    with pytest.raises(WrongCode):
        engine.session(TERMINAL).confirm_contact(flow, state.challenge.id, "00000000")
    state = engine.session(TERMINAL).confirm_contact(flow, state.challenge.id,
                                   last_code(engine, "erin@contoso.org"))
    assert [m.kind.value for m in state.registration.registered] == ["email"]
    pool = engine.session(TERMINAL).question_pool(flow)
    assert len(pool) >= 20
    state = engine.session(TERMINAL).set_questions(flow, [
        QuestionAnswer(question_id="pet", answer="Whiskers"),
        QuestionAnswer(question_id="city", answer="Lisbon"),
        QuestionAnswer(custom_text="Which colour was my first bike?", answer="teal"),
    ])
    enrol = engine.session(TERMINAL).begin_authenticator(flow)
    assert enrol.uri.startswith("otpauth://totp/") and "secret=" in enrol.uri
    state = engine.session(TERMINAL).confirm_authenticator(flow, code_at(enrol.secret, clock.now()))
    kinds = [m.kind.value for m in state.registration.registered]
    assert kinds == ["email", "questions", "authenticator"]
    assert engine.session(TERMINAL).finish_registration(flow).result == "registered"
    # now erin can reset; with an app registered she must use it
    clock.advance(seconds=30)
    state = engine.session(TERMINAL).start("reset", "erin")
    assert [m.kind.value for m in state.methods] == ["authenticator"]
    state = engine.session(TERMINAL).verify_totp(state.flow_id, code_at(enrol.secret, clock.now()))
    assert state.step == Step.NEW_PASSWORD


def test_registration_refuses_bad_contacts(engine: Engine) -> None:
    flow = signed_in(engine)
    for bad in ("not-an-email", "a@b", "x" * 300 + "@contoso.org", "erin@contoso.org\r\nBcc: x"):
        with pytest.raises(InvalidInput):
            engine.session(TERMINAL).add_email(flow, bad)
    for bad in ("12", "+1 555", "call me", "+44 7911 12345678901"):
        with pytest.raises(InvalidInput):
            engine.session(TERMINAL).add_phone(flow, "mobile", bad, "text")
    with pytest.raises(InvalidInput):  # office phones are voice only
        engine.session(TERMINAL).add_phone(flow, "office", "+14255550199", "text")


def test_a_method_change_is_told_to_the_other_contacts(engine: Engine) -> None:
    flow = signed_in(engine, "alice", "Alice-demo-pass-1")
    state = engine.session(TERMINAL).add_phone(flow, "mobile", "+1 425 555 0199", "text")
    engine.session(TERMINAL).confirm_contact(flow, state.challenge.id,  # type: ignore[union-attr]
                           last_code(engine, "+14255550199"))
    notices = [m for m in engine.outbox_messages(10) if m.recipient == "alice@contoso.org"]
    assert notices and "+14255550199" not in notices[0].body


def test_admins_cannot_register_questions(engine: Engine) -> None:
    flow = signed_in(engine, "carol", "Carol-demo-pass-1")
    with pytest.raises(InvalidInput):
        engine.session(TERMINAL).set_questions(flow, [
            QuestionAnswer(question_id=q, answer=a) for q, a in ALICE.items()])


def test_frank_cannot_register_for_a_service_he_may_not_use(engine: Engine) -> None:
    # he starts like anyone; his own password tells him, and nobody else, why not
    state = engine.session(TERMINAL).start("register", "frank")
    with pytest.raises(WrongPassword):
        engine.session(TERMINAL).sign_in(state.flow_id, "not-franks-password")
    with pytest.raises(NotEligible):
        engine.session(TERMINAL).sign_in(state.flow_id, "Frank-demo-pass-1")


def test_a_locked_account_cannot_sign_in_to_register(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("register", "dave")
    with pytest.raises(NotEligible):
        engine.session(TERMINAL).sign_in(state.flow_id, "Dave-demo-pass-1")


def test_reconfirm_is_due_after_the_configured_days(tmp_path: Path, clock: FrozenClock) -> None:
    engine = make_engine(tmp_path, clock, registration={"reconfirm_days": 30})
    flow = signed_in(engine, "alice", "Alice-demo-pass-1")
    assert engine.session(TERMINAL).cancel(flow)
    clock.advance(days=30)
    state = at_registration(engine, "alice", "Alice-demo-pass-1")
    assert not state.registration.reconfirm_due  # type: ignore[union-attr]
    engine.session(TERMINAL).cancel(state.flow_id)
    clock.advance(seconds=1)
    state = at_registration(engine, "alice", "Alice-demo-pass-1")
    assert state.registration.reconfirm_due  # type: ignore[union-attr]


def test_registration_required_interrupts_a_change_after_sign_in(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("change", "erin")
    state = engine.session(TERMINAL).sign_in(state.flow_id, "Erin-demo-pass-1")
    assert state.step == Step.REGISTER and state.registration.missing == 1  # type: ignore[union-attr]
    state = engine.session(TERMINAL).add_email(state.flow_id, "erin@contoso.org")
    state = engine.session(TERMINAL).confirm_contact(state.flow_id, state.challenge.id,  # type: ignore[union-attr]
                                   last_code(engine, "erin@contoso.org"))
    state = engine.session(TERMINAL).finish_registration(state.flow_id)
    assert state.step == Step.NEW_PASSWORD
    assert engine.session(TERMINAL).set_password(state.flow_id,
                                                 "Orchard kiosk pebble song").result \
        == "changed"


def test_registered_users_change_straight_away(engine: Engine) -> None:
    kiosk = engine.session(TERMINAL)
    state = kiosk.sign_in(kiosk.start("change", "alice").flow_id, "Alice-demo-pass-1")
    assert state.step == Step.NEW_PASSWORD


def test_without_registration_required_a_change_goes_on(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, registration={"require": False})
    kiosk = engine.session(TERMINAL)
    state = kiosk.sign_in(kiosk.start("change", "erin").flow_id, "Erin-demo-pass-1")
    assert state.step == Step.NEW_PASSWORD


def test_registration_does_not_offer_what_the_directory_supplies(engine: Engine) -> None:
    """LDAP / AD supply email and phones: the registration step lists only what the visitor
    can register here (registering a supplied kind is refused; the next lookup would drop it)."""
    from kiosk.engine import accounts, registry

    with engine.db.begin() as conn:
        user = engine.directory.find(conn, "erin")
        assert user is not None
        reg = registry.load(conn, user.id)
    now = engine.clock.now()
    everything = accounts.registration_status(engine.policy, now, user, reg)
    owned = accounts.registration_status(engine.policy, now, user, reg,
                                         frozenset({"email", "mobile"}))
    assert {"email", "mobile"} <= {kind.value for kind in everything.available}
    assert not {"email", "mobile"} & {kind.value for kind in owned.available}
    assert owned.missing == everything.missing  # what the account still needs is unchanged
