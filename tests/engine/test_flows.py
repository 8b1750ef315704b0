"""Every demo user's flows through the engine and EmbeddedBackend, and the step rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.backend import (
    FlowExpired,
    FlowNotFound,
    InvalidInput,
    MethodKind,
    NotEligible,
    NotRegistered,
    PasswordRejected,
    Purpose,
    Step,
    StepOutOfOrder,
    WrongPassword,
)
from kiosk.engine.audit import events_for
from kiosk.engine.clock import FrozenClock
from kiosk.engine.demo import BOB_TOTP_SECRET
from kiosk.engine.engine import Engine
from kiosk.engine.schema import users
from kiosk.engine.totp import code_at
from tests.support.engine import TERMINAL, email_gate, last_code, make_engine

NEW_PASSWORD = "Correct horse kiosk staple 77"


def kinds(state) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.kind.value for m in state.methods if not m.passed]


def password_hash(engine: Engine, name: str) -> str:
    with engine.db.connect() as conn:
        return conn.execute(select(users.c.password_hash).where(users.c.username == name)
                            ).scalar_one()


def test_alice_resets_with_an_emailed_code(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    assert state.step == Step.CHOOSE_METHOD
    assert kinds(state) == ["email", "mobile", "questions"]
    masks = {m.kind.value: m.masked for m in state.methods}
    assert masks["email"] == "a•••@c•••.org" and masks["mobile"] == "+1 •• •• ••42"
    state = email_gate(engine, state)
    assert state.step == Step.NEW_PASSWORD and state.gates_passed == 1
    before = password_hash(engine, "alice")
    state = engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    assert state.step == Step.DONE and state.result == "reset"
    assert password_hash(engine, "alice") != before
    user = engine.directory.find(engine.db.connect(), "alice")
    assert engine.directory.verify_password(user, NEW_PASSWORD)


def test_alice_resets_with_questions_and_a_text(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    state = engine.session(TERMINAL).questions(state.flow_id)
    assert state.step == Step.ANSWER_QUESTIONS and len(state.questions) == 3
    answers = {"pet": "Rex", "city": "  SPRINGFIELD ", "nickname": "ally"}
    state = engine.session(TERMINAL).answer(state.flow_id, [answers[q.id] for q in state.questions])
    assert state.step == Step.NEW_PASSWORD


def test_alice_mobile_by_call_reads_the_code_digit_by_digit(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    state = engine.session(TERMINAL).send_code(state.flow_id, "mobile", "call")
    message = engine.outbox_messages(1)[0]
    assert message.channel == "call" and message.recipient == "+14255550142"
    assert state.challenge is not None and state.challenge.channel.value == "call"


def test_bob_must_use_his_authenticator(engine: Engine, clock: FrozenClock) -> None:
    state = engine.session(TERMINAL).start("reset", "bob")
    assert kinds(state) == ["authenticator"]  # required_if_registered: email alone is not enough
    with pytest.raises(InvalidInput):
        engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    code = code_at(BOB_TOTP_SECRET, clock.now())
    state = engine.session(TERMINAL).verify_totp(state.flow_id, code)
    assert state.step == Step.NEW_PASSWORD


def test_bob_may_use_email_when_the_policy_does_not_require_the_app(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, authenticator={"required_if_registered": False})
    state = engine.session(TERMINAL).start("reset", "bob")
    assert kinds(state) == ["email", "authenticator"]
    assert email_gate(engine, state).step == Step.NEW_PASSWORD


def test_carol_the_admin_needs_two_gates_and_never_questions(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "carol")
    # the second proof shows only after the first: until then carol looks like anyone
    assert state.gates_required == 1 and "questions" not in kinds(state)
    state = email_gate(engine, state)
    assert state.step == Step.CHOOSE_METHOD and state.gates_passed == 1
    assert state.gates_required == 2
    assert kinds(state) == ["mobile"]
    with pytest.raises(StepOutOfOrder):
        engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    state = engine.session(TERMINAL).send_code(state.flow_id, "mobile", "text")
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,  # type: ignore[union-attr]
                               last_code(engine, "+14255550143"))
    assert state.step == Step.NEW_PASSWORD
    state = engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    assert state.result == "reset"


def test_an_admin_with_questions_only_is_not_registered(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, sspr={"enabled": "selected", "groups": ["sspr-users"],
                                         "methods": ["email", "questions"]},
                         privacy={"enumeration_safe": False})
    # carol has email (+ mobile, not offered): one usable method, admins need two
    with pytest.raises(NotRegistered):
        engine.session(TERMINAL).start("reset", "carol")


def test_dave_unlocks_without_changing_his_password(engine: Engine) -> None:
    before = password_hash(engine, "dave")
    state = engine.session(TERMINAL).start("unlock", "dave")
    state = email_gate(engine, state)
    assert state.step == Step.UNLOCK
    state = engine.session(TERMINAL).unlock(state.flow_id)
    assert state.step == Step.DONE and state.result == "unlocked"
    user = engine.directory.find(engine.db.connect(), "dave")
    assert user is not None and not user.locked
    assert password_hash(engine, "dave") == before


def test_a_reset_also_unlocks(engine: Engine) -> None:
    state = email_gate(engine, engine.session(TERMINAL).start("reset", "dave"))
    engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    user = engine.directory.find(engine.db.connect(), "dave")
    assert user is not None and not user.locked


def test_erin_has_nothing_registered(tmp_path: Path) -> None:
    # explicit answers only with enumeration safety off (tests/engine/
    # test_stepup_and_enumeration.py: with it on, erin and frank start like anyone)
    engine = make_engine(tmp_path, privacy={"enumeration_safe": False})
    with pytest.raises(NotRegistered) as err:
        engine.session(TERMINAL).start("reset", "erin")
    assert err.value.support_code


def test_frank_is_not_in_the_sspr_group(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, privacy={"enumeration_safe": False})
    with pytest.raises(NotEligible) as err:
        engine.session(TERMINAL).start("reset", "frank")
    assert err.value.params["reason"] == "scope"


def test_nested_groups_count_for_the_scope(engine: Engine) -> None:
    with engine.db.connect() as conn:
        alice = engine.directory.find(conn, "alice")
        assert alice is not None
        assert engine.directory.group_names(conn, alice.id) == {"staff", "sspr-users"}


def test_sspr_none_refuses_everyone_but_admins(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, sspr={"enabled": "none"},
                         privacy={"enumeration_safe": False})
    with pytest.raises(NotEligible):
        engine.session(TERMINAL).start("reset", "alice")
    assert engine.session(TERMINAL).start("reset", "carol").step == Step.CHOOSE_METHOD


def test_change_password_with_the_current_one(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("change", "alice")
    assert state.step == Step.SIGN_IN
    with pytest.raises(StepOutOfOrder):
        engine.session(TERMINAL).check_password(state.flow_id, NEW_PASSWORD)
    with pytest.raises(WrongPassword):
        engine.session(TERMINAL).sign_in(state.flow_id, "not-her-password")
    state = engine.session(TERMINAL).sign_in(state.flow_id, "Alice-demo-pass-1")
    assert state.step == Step.NEW_PASSWORD
    with pytest.raises(PasswordRejected) as err:  # the current password again
        engine.session(TERMINAL).set_password(state.flow_id, "Alice-demo-pass-1")
    assert "history" in [v["rule"] for v in err.value.params["violations"]]
    state = engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    assert state.result == "changed"


def test_password_history_refuses_the_last_five(engine: Engine) -> None:
    passwords = [f"Quiet river number {n} kiosk" for n in range(6)]
    for pw in passwords:
        state = email_gate(engine, engine.session(TERMINAL).start("reset", "alice"))
        engine.session(TERMINAL).set_password(state.flow_id, pw)
    state = email_gate(engine, engine.session(TERMINAL).start("reset", "alice"))
    for recent in passwords[1:]:  # the last five
        with pytest.raises(PasswordRejected):
            engine.session(TERMINAL).set_password(state.flow_id, recent)
    # the sixth-newest may come back
    assert engine.session(TERMINAL).set_password(state.flow_id, passwords[0]).result == "reset"


def test_every_violated_rule_is_reported(engine: Engine) -> None:
    state = email_gate(engine, engine.session(TERMINAL).start("reset", "alice"))
    check = engine.session(TERMINAL).check_password(state.flow_id, "alice")
    assert not check.ok
    assert {"too_short"} <= {v.rule for v in check.violations}
    with pytest.raises(PasswordRejected) as err:
        engine.session(TERMINAL).set_password(state.flow_id, "alice")
    assert len(err.value.params["violations"]) == len(check.violations)


def test_out_of_order_calls_are_refused(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    for call in (
        lambda: engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD),
        lambda: engine.session(TERMINAL).unlock(state.flow_id),
        lambda: engine.session(TERMINAL).answer(state.flow_id, ["a", "b", "c"]),
        lambda: engine.session(TERMINAL).sign_in(state.flow_id, "x"),
        lambda: engine.session(TERMINAL).finish_registration(state.flow_id),
        lambda: engine.session(TERMINAL).check_password(state.flow_id, "x"),
    ):
        with pytest.raises(StepOutOfOrder):
            call()
    unlock = email_gate(engine, engine.session(TERMINAL).start("unlock", "dave"))
    with pytest.raises(StepOutOfOrder):  # an unlock flow cannot set a password
        engine.session(TERMINAL).set_password(unlock.flow_id, NEW_PASSWORD)


def test_a_flow_lives_fifteen_minutes(engine: Engine, clock: FrozenClock) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    clock.advance(minutes=14, seconds=59)
    engine.session(TERMINAL).questions(state.flow_id)
    clock.advance(seconds=1)
    with pytest.raises(FlowExpired):
        engine.session(TERMINAL).questions(state.flow_id)
    with pytest.raises(FlowNotFound):  # it has ended for good
        engine.session(TERMINAL).questions(state.flow_id)


def test_another_terminal_cannot_continue_a_flow(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    with pytest.raises(FlowNotFound):
        engine.session("console:other").questions(state.flow_id)


def test_cancel_ends_the_flow(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    assert engine.session(TERMINAL).cancel(state.flow_id).step == Step.CANCELLED
    with pytest.raises(FlowNotFound):
        engine.session(TERMINAL).questions(state.flow_id)


@pytest.mark.parametrize("bad", [None, 42, "", "   ", "x" * 257, "al\x00ice", "bob\n", ["a"]])
def test_bad_usernames_are_refused_clearly(engine: Engine, bad: object) -> None:
    with pytest.raises(InvalidInput):
        engine.session(TERMINAL).start("reset", bad)  # type: ignore[arg-type]


def test_unknown_purpose_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidInput):
        engine.session(TERMINAL).start("delete-everything", "alice")


def test_injection_strings_are_just_unknown_names(engine: Engine) -> None:
    for name in ("alice' OR '1'='1", "*)(uid=*", "alice; DROP TABLE users"):
        state = engine.session(TERMINAL).start("reset", name)  # a decoy, nothing else
        assert state.step == Step.CHOOSE_METHOD
    assert engine.directory.find(engine.db.connect(), "alice") is not None


def test_every_step_leaves_an_audit_event(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    state = email_gate(engine, state)
    engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    with engine.db.connect() as conn:
        from kiosk.engine.schema import flows

        correlation = conn.execute(select(flows.c.correlation_id).where(
            flows.c.id == state.flow_id)).scalar_one()
        events = events_for(conn, correlation)
    details = [(e["activity"], e["result"], e["detail"]) for e in events]
    assert details[0][2] == "identified for reset"
    assert ("flow_progress", "succeeded", "code sent by email") in details
    assert ("flow_progress", "succeeded", "verified") in details
    assert details[-1][:2] == ("reset", "succeeded")
    assert {e["support_code"] for e in events} == {state.support_code}
    assert all(e["terminal"] == TERMINAL for e in events)


def test_users_are_told_of_a_reset_and_admins_of_an_admin_reset(engine: Engine) -> None:
    state = email_gate(engine, engine.session(TERMINAL).start("reset", "alice"))
    engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    notices = [m for m in engine.outbox_messages(10) if m.subject and "code" not in
               m.subject.lower()]
    assert {m.recipient for m in notices} >= {"alice@contoso.org", "+14255550142"}


async def test_embedded_backend_runs_a_whole_reset(engine: Engine) -> None:
    backend = EmbeddedBackend(engine, terminal=TERMINAL)
    branding = await backend.branding()
    assert branding.demo and branding.organization
    state = await backend.start(Purpose.RESET, "alice")
    state = await backend.send_code(state.flow_id, MethodKind.EMAIL, "email")  # type: ignore[arg-type]
    assert state.challenge is not None
    state = await backend.verify_code(state.flow_id, state.challenge.id, last_code(engine))
    check = await backend.check_password(state.flow_id, NEW_PASSWORD)
    assert check.ok, check.violations
    state = await backend.set_password(state.flow_id, NEW_PASSWORD)
    assert state.result == "reset"
    await backend.close()


def test_a_cycle_of_nested_groups_ends(engine: Engine) -> None:
    with engine.db.begin() as conn:
        engine.directory.add_member(conn, "staff", member_group="sspr-users")  # a cycle
        alice = engine.directory.find(conn, "alice")
        assert alice is not None
        assert engine.directory.group_names(conn, alice.id) == {"staff", "sspr-users"}


def test_the_live_check_on_an_expired_flow_says_expired(engine: Engine,
                                                        clock: FrozenClock) -> None:
    state = email_gate(engine, engine.session(TERMINAL).start("reset", "alice"))
    clock.advance(minutes=16)
    with pytest.raises(FlowExpired):
        engine.session(TERMINAL).check_password(state.flow_id, "anything at all")


def test_control_characters_in_a_new_password_are_a_rule_not_a_crash(engine: Engine) -> None:
    state = email_gate(engine, engine.session(TERMINAL).start("reset", "alice"))
    check = engine.session(TERMINAL).check_password(state.flow_id, "Harbour kiosk\tlantern 2041")
    assert "control_chars" in {v.rule for v in check.violations}


def test_someone_else_typing_her_name_does_not_cut_her_flow_short(engine: Engine) -> None:
    hers = engine.session(TERMINAL).start("reset", "alice")
    engine.session("console:elsewhere").start("reset", "alice")
    assert engine.session(TERMINAL).questions(hers.flow_id).step == Step.ANSWER_QUESTIONS
    # a new start at her own terminal supersedes her earlier flow
    engine.session(TERMINAL).start("reset", "alice")
    with pytest.raises(FlowNotFound):
        engine.session(TERMINAL).questions(hers.flow_id)


def test_other_admins_are_alerted_when_an_admin_resets(engine: Engine) -> None:
    from kiosk.engine import registry

    with engine.db.begin() as conn:
        uid = engine.directory.add_user(conn, "oscar", is_admin=True)  # type: ignore[attr-defined]
        registry.set_method(conn, uid, "email", "oscar@contoso.org", engine.clock.now())
    state = email_gate(engine, engine.session(TERMINAL).start("reset", "carol"))
    state = engine.session(TERMINAL).send_code(state.flow_id, "mobile", "text")
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,  # type: ignore[union-attr]
                               last_code(engine, "+14255550143"))
    engine.session(TERMINAL).set_password(state.flow_id, NEW_PASSWORD)
    to_oscar = [m for m in engine.outbox_messages(20) if m.recipient == "oscar@contoso.org"]
    to_carol = [m for m in engine.outbox_messages(20) if m.recipient == "carol@contoso.org"]
    assert len(to_oscar) == 1 and "carol" in to_oscar[0].body
    assert not any("carol" in m.subject.lower() and "admin" in m.subject.lower()
                   for m in to_carol[:1])  # carol gets her own notice, not the admin alert
