"""Step-up before security info changes, and one face for every account until a proof.

Attacks from issue 10: the current password alone replaced bob's authenticator and email;
the start step told unknown, out-of-scope, disabled, unregistered and admin accounts apart;
a custom question's text was shown to anyone who typed the name; a repeated wrong TOTP code was
skipped forever yet checked afresh in every 30 s step.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from kiosk.backend import (
    Blocked,
    KioskError,
    MethodKind,
    Step,
    StepOutOfOrder,
    WrongCode,
)
from kiosk.engine import registry
from kiosk.engine.clock import FrozenClock
from kiosk.engine.demo import BOB_TOTP_SECRET
from kiosk.engine.engine import Engine
from kiosk.engine.registry import StoredAnswer
from kiosk.engine.schema import users
from kiosk.engine.totp import code_at
from tests.support.engine import TERMINAL, last_code, make_engine

BOB = "Bob-demo-pass-1"


def totp_now(engine: Engine) -> str:
    return code_at(BOB_TOTP_SECRET, engine.clock.now())


# ---------------------------------------------------------------- step-up


def test_bobs_password_alone_cannot_replace_his_authenticator(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("register", "bob")
    state = engine.session(TERMINAL).sign_in(state.flow_id, BOB)
    # the password is one proof; the registered authenticator (required) is the other
    assert state.step == Step.CHOOSE_METHOD
    assert [m.kind for m in state.methods if not m.passed] == [MethodKind.AUTHENTICATOR]
    with pytest.raises(StepOutOfOrder):
        engine.session(TERMINAL).begin_authenticator(state.flow_id)
    with pytest.raises(StepOutOfOrder):
        engine.session(TERMINAL).add_email(state.flow_id, "mallory@evil.example")
    with pytest.raises(KioskError):  # email alone is not enough: the authenticator is required
        engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    state = engine.session(TERMINAL).verify_totp(state.flow_id, totp_now(engine))
    assert state.step == Step.REGISTER
    assert engine.session(TERMINAL).begin_authenticator(state.flow_id).secret


def test_an_administrator_needs_two_registered_methods_besides_the_password(
        engine: Engine) -> None:
    state = engine.session(TERMINAL).start("register", "carol")
    state = engine.session(TERMINAL).sign_in(state.flow_id, "Carol-demo-pass-1")
    assert state.step == Step.CHOOSE_METHOD and state.gates_required == 3
    for kind, channel in (("email", "email"), ("mobile", "text")):
        state = engine.session(TERMINAL).send_code(state.flow_id, kind, channel)
        assert state.challenge is not None
        state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                                   last_code(engine))
    assert state.step == Step.REGISTER


def test_the_first_methods_need_only_the_password(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("register", "erin")
    state = engine.session(TERMINAL).sign_in(state.flow_id, "Erin-demo-pass-1")
    assert state.step == Step.REGISTER


def test_replacing_the_only_email_tells_the_old_address(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("register", "alice")
    state = engine.session(TERMINAL).sign_in(state.flow_id, "Alice-demo-pass-1")
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert state.challenge is not None
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                                                 last_code(engine))
    assert state.step == Step.REGISTER
    state = engine.session(TERMINAL).add_email(state.flow_id, "alice.new@contoso.org")
    assert state.challenge is not None
    engine.session(TERMINAL).confirm_contact(state.flow_id, state.challenge.id,
                           last_code(engine, "alice.new@contoso.org"))
    told = [m for m in engine.outbox_messages(50) if m.recipient == "alice@contoso.org"
            and "security info" in m.subject]
    assert told, "the replaced address must hear of the change"


# ---------------------------------------------------------------- one face before a proof


def shape(state) -> tuple:  # type: ignore[no-untyped-def]
    return (state.step, state.gates_passed, state.gates_required, sorted(state.model_dump()),
            [sorted(m.model_dump()) for m in state.methods])


def test_every_kind_of_account_starts_alike(engine: Engine) -> None:
    with engine.db.begin() as conn:  # a disabled account besides the demo's
        conn.execute(update(users).where(users.c.username == "dave").values(enabled=False))
    states = {name: engine.session(TERMINAL).start("reset", name)
              for name in ("alice", "nobody-here", "frank", "dave", "erin", "carol")}
    faces = {name: (s.step, s.gates_passed, s.gates_required, tuple(sorted(s.model_dump())))
             for name, s in states.items()}
    assert len(set(faces.values())) == 1, faces
    assert all(s.methods for s in states.values())


def test_an_administrators_second_proof_shows_after_the_first(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "carol")
    assert state.gates_required == 1
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert state.challenge is not None and state.gates_required == 1
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                                                 last_code(engine))
    assert state.step == Step.CHOOSE_METHOD and state.gates_required == 2


def test_a_decoy_never_offers_fewer_methods_than_proofs(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, sspr={"enabled": "all", "methods_required": 2})
    for i in range(120):
        state = engine.session(TERMINAL).start("reset", f"stranger{i}")
        assert len(state.methods) >= 2, state.methods


def test_decoys_look_like_the_organisations_own_contacts(engine: Engine) -> None:
    """Every demo address is @contoso.org and every phone +1: decoys show the same."""
    emails, phones = [], []
    for i in range(150):
        state = engine.session(TERMINAL).start("reset", f"someone{i}")
        emails += [m.masked for m in state.methods if m.kind == MethodKind.EMAIL]
        phones += [m.masked for m in state.methods
                   if m.kind in (MethodKind.MOBILE, MethodKind.OFFICE)]
    assert emails and all(re.fullmatch(r".•••@c•••\.org", e) for e in emails), emails[:5]
    assert all(p.startswith("+1 ") for p in phones), phones[:5]


def test_a_custom_question_is_not_shown_before_another_proof(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, sspr={"enabled": "selected", "groups": ["sspr-users"],
                                         "methods_required": 2})
    with engine.db.begin() as conn:
        alice = engine.directory.find(conn, "alice")
        assert alice is not None
        stored = registry.load(conn, alice.id).answers
        registry.set_answers(conn, alice.id, [*stored[:2], StoredAnswer(
            "custom:1", "Which hospital was my daughter Emma born in?", stored[2].answer_hash)])
    state = engine.session(TERMINAL).start("reset", "alice")
    assert MethodKind.QUESTIONS not in [m.kind for m in state.methods]
    with pytest.raises(KioskError):
        engine.session(TERMINAL).questions(state.flow_id)
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert state.challenge is not None
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                                                 last_code(engine))
    assert MethodKind.QUESTIONS in [m.kind for m in state.methods if not m.passed]
    state = engine.session(TERMINAL).questions(state.flow_id)
    assert "Emma" in " ".join(q.text for q in state.questions)


# ---------------------------------------------------------------- TOTP repeats


def test_a_repeated_wrong_totp_code_counts_again_in_a_new_step(tmp_path: Path) -> None:
    clock = FrozenClock()
    engine = make_engine(tmp_path, clock)
    state = engine.session(TERMINAL).start("reset", "bob")
    bad = f"{(int(totp_now(engine)) + 500000) % 10**6:06d}"
    for _ in range(3):  # the same wrong code within one step counts once
        with pytest.raises(WrongCode):
            engine.session(TERMINAL).verify_totp(state.flow_id, bad)
    blocked = False
    for _ in range(6):
        clock.advance(seconds=30)
        if bad in {code_at(BOB_TOTP_SECRET, clock.now() + timedelta(seconds=d))
                   for d in (-30, 0, 30)}:
            continue  # (1 in 300,000: the wrong code became right)
        try:
            engine.session(TERMINAL).verify_totp(state.flow_id, bad)
        except Blocked:
            blocked = True
            break
        except WrongCode:
            continue
    assert blocked, "the same wrong code in five steps is five guesses"
