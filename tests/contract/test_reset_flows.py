"""The demo users' reset and unlock flows, through the Backend protocol only (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kiosk.backend import (
    Blocked,
    Channel,
    CodeExpired,
    FlowNotFound,
    FlowState,
    InvalidInput,
    MethodKind,
    PasswordRejected,
    Purpose,
    ResendTooSoon,
    Step,
    StepOutOfOrder,
    WrongAnswers,
    WrongCode,
    WrongPassword,
)
from kiosk.engine.demo import BOB_TOTP_SECRET
from kiosk.engine.schema import users
from kiosk.engine.totp import code_at
from tests.support.engine import wrong
from tests.support.worlds import World

NEW_PASSWORD = "Violet-harbour-lantern-93"
ALICE_ANSWERS = {"pet": "rex", "city": "springfield", "nickname": "ally"}
ALICE_EMAIL = "alice@contoso.org"


async def email_gate(world: World, state: FlowState, recipient: str) -> FlowState:
    state = await world.backend.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert state.step == Step.VERIFY_CODE and state.challenge is not None
    return await world.backend.verify_code(state.flow_id, state.challenge.id,
                                           world.last_code(recipient))


def locked(world: World, username: str) -> bool:
    with world.engine.db.connect() as conn:
        return bool(conn.execute(select(users.c.locked).where(
            users.c.username == username)).scalar_one())


# ---------------------------------------------------------------- alice


async def test_alice_resets_by_email_code(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    assert state.step == Step.CHOOSE_METHOD and state.purpose == Purpose.RESET
    assert [m.kind for m in state.methods] == ["email", "mobile", "questions"]
    assert state.methods[0].masked == "a•••@c•••.org"
    assert state.methods[1].channels == [Channel.TEXT, Channel.CALL]
    assert (state.gates_passed, state.gates_required) == (0, 1)
    assert state.support_code and state.challenge is None

    state = await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert state.step == Step.VERIFY_CODE
    challenge = state.challenge
    assert challenge is not None and challenge.method == MethodKind.EMAIL
    assert challenge.masked == "a•••@c•••.org" and challenge.code_length == 8
    assert challenge.resend_at > world.clock.now()

    state = await b.verify_code(state.flow_id, challenge.id, world.last_code(ALICE_EMAIL))
    assert state.step == Step.NEW_PASSWORD and state.gates_passed == 1

    check = await b.check_password(state.flow_id, "password")
    assert not check.ok and {v.rule for v in check.violations} >= {"too_short", "banned"}
    assert "too_short" in check.rules
    assert (await b.check_password(state.flow_id, NEW_PASSWORD)).ok

    with pytest.raises(PasswordRejected) as refused:
        await b.set_password(state.flow_id, "alice2024")
    assert refused.value.support_code == state.support_code
    assert {v["rule"] for v in refused.value.params["violations"]} >= {"too_short", "personal"}
    with pytest.raises(PasswordRejected) as same:
        await b.set_password(state.flow_id, "Alice-demo-pass-1")  # the current one
    assert "history" in {v["rule"] for v in same.value.params["violations"]}

    done = await b.set_password(state.flow_id, NEW_PASSWORD)
    assert done.step == Step.DONE and done.result == "reset"
    with pytest.raises(FlowNotFound):  # the flow has ended
        await b.check_password(state.flow_id, NEW_PASSWORD)

    # the new password signs in; the old one no longer does
    change = await b.start(Purpose.CHANGE, "alice")
    assert change.step == Step.SIGN_IN
    with pytest.raises(WrongPassword):
        await b.sign_in(change.flow_id, "Alice-demo-pass-1")
    signed = await b.sign_in(change.flow_id, NEW_PASSWORD)
    assert signed.step == Step.NEW_PASSWORD


async def test_alice_resets_by_text_message(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    state = await b.send_code(state.flow_id, MethodKind.MOBILE, Channel.TEXT)
    assert state.challenge is not None and state.challenge.channel == Channel.TEXT
    assert state.challenge.masked.endswith("42")
    state = await b.verify_code(state.flow_id, state.challenge.id,
                                world.last_code("+14255550142"))
    assert state.step == Step.NEW_PASSWORD


async def test_alice_resets_by_security_questions(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    state = await b.questions(state.flow_id)
    assert state.step == Step.ANSWER_QUESTIONS
    assert sorted(q.id for q in state.questions) == ["city", "nickname", "pet"]
    assert all(q.text.endswith("?") for q in state.questions)
    again = await b.questions(state.flow_id)  # the current set, not a new draw
    assert [q.id for q in again.questions] == [q.id for q in state.questions]
    # answers are normalised: case and surrounding spaces do not matter
    answers = [f"  {ALICE_ANSWERS[q.id].upper()} " for q in state.questions]
    state = await b.answer(state.flow_id, answers)
    assert state.step == Step.NEW_PASSWORD and state.gates_passed == 1
    assert (await b.set_password(state.flow_id, NEW_PASSWORD)).result == "reset"


async def test_wrong_answers_draw_a_new_set(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    state = await b.questions(state.flow_id)
    answers = [ALICE_ANSWERS[q.id] for q in state.questions]
    answers[-1] = "not-it"
    with pytest.raises(WrongAnswers) as refused:
        await b.answer(state.flow_id, answers)
    assert refused.value.support_code == state.support_code
    redrawn = await b.questions(state.flow_id)
    assert redrawn.step == Step.ANSWER_QUESTIONS and len(redrawn.questions) == 3
    # the answers to the old order are no good unless the new set asks the same order
    with pytest.raises(InvalidInput):
        await b.answer(state.flow_id, ["rex", "springfield"])  # too few
    state = await b.answer(state.flow_id, [ALICE_ANSWERS[q.id] for q in redrawn.questions])
    assert state.step == Step.NEW_PASSWORD


async def test_wrong_code_then_right_code(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    state = await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert state.challenge is not None
    code = world.last_code(ALICE_EMAIL)
    with pytest.raises(WrongCode) as refused:
        await b.verify_code(state.flow_id, state.challenge.id, wrong(code))
    assert refused.value.support_code == state.support_code
    # spaces and dashes a person types are fine
    spaced = f"{code[:4]} {code[4:]}"
    state = await b.verify_code(state.flow_id, state.challenge.id, spaced)
    assert state.step == Step.NEW_PASSWORD


async def test_a_used_code_is_refused(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "carol")  # two gates: the flow goes on after one
    first = await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert first.challenge is not None
    code = world.last_code("carol@contoso.org")
    state = await b.verify_code(state.flow_id, first.challenge.id, code)
    assert state.step == Step.CHOOSE_METHOD
    with pytest.raises(StepOutOfOrder):  # no code is pending now
        await b.verify_code(state.flow_id, first.challenge.id, code)
    state = await b.send_code(state.flow_id, MethodKind.MOBILE, Channel.TEXT)
    with pytest.raises(CodeExpired) as reused:
        await b.verify_code(state.flow_id, first.challenge.id, code)
    assert reused.value.params["reason"] == "used"


async def test_resend_waits_and_supersedes_the_old_code(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    first = await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert first.challenge is not None
    old_code = world.last_code(ALICE_EMAIL)
    with pytest.raises(ResendTooSoon) as early:
        await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert 0 < early.value.params["retry_after"] <= 61
    world.clock.advance(seconds=61)
    second = await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert second.challenge is not None and second.challenge.id != first.challenge.id
    with pytest.raises(CodeExpired) as stale:
        await b.verify_code(state.flow_id, first.challenge.id, old_code)
    assert stale.value.params["reason"] == "superseded"
    state = await b.verify_code(state.flow_id, second.challenge.id,
                                world.last_code(ALICE_EMAIL))
    assert state.step == Step.NEW_PASSWORD


async def test_an_old_code_expires(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    state = await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert state.challenge is not None
    world.clock.advance(minutes=10, seconds=1)
    with pytest.raises(CodeExpired) as late:
        await b.verify_code(state.flow_id, state.challenge.id, world.last_code(ALICE_EMAIL))
    assert late.value.params["reason"] == "expired"


# ---------------------------------------------------------------- bob: authenticator


async def test_bob_must_use_the_authenticator_and_a_step_is_not_replayed(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "bob")
    assert [m.kind for m in state.methods] == [MethodKind.AUTHENTICATOR]
    with pytest.raises(InvalidInput):  # email alone cannot reset bob
        await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    with pytest.raises(WrongCode):
        await b.verify_totp(state.flow_id, wrong(code_at(BOB_TOTP_SECRET, world.clock.now())))
    code = code_at(BOB_TOTP_SECRET, world.clock.now())
    state = await b.verify_totp(state.flow_id, code)
    assert state.step == Step.NEW_PASSWORD and state.gates_passed == 1
    assert (await b.set_password(state.flow_id, NEW_PASSWORD)).result == "reset"

    again = await b.start(Purpose.RESET, "bob")
    with pytest.raises(WrongCode):  # the same time step is never accepted twice
        await b.verify_totp(again.flow_id, code)
    world.clock.advance(seconds=30)
    state = await b.verify_totp(again.flow_id, code_at(BOB_TOTP_SECRET, world.clock.now()))
    assert state.step == Step.NEW_PASSWORD


# ---------------------------------------------------------------- carol: administrator


async def test_carol_needs_two_gates_and_no_questions(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "carol")
    assert state.gates_required == 1  # the second shows after the first (enumeration)
    assert [m.kind for m in state.methods] == ["email", "mobile"]
    with pytest.raises(InvalidInput):
        await b.questions(state.flow_id)
    state = await email_gate(world, state, "carol@contoso.org")
    assert state.step == Step.CHOOSE_METHOD and state.gates_passed == 1
    assert [(m.kind, m.passed) for m in state.methods] == [("mobile", False), ("email", True)]
    with pytest.raises(InvalidInput):  # a passed gate does not count twice
        await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    with pytest.raises(StepOutOfOrder):
        await b.set_password(state.flow_id, NEW_PASSWORD)
    state = await b.send_code(state.flow_id, MethodKind.MOBILE, Channel.TEXT)
    assert state.challenge is not None
    state = await b.verify_code(state.flow_id, state.challenge.id,
                                world.last_code("+14255550143"))
    assert state.step == Step.NEW_PASSWORD and state.gates_passed == 2
    assert (await b.set_password(state.flow_id, NEW_PASSWORD)).result == "reset"


# ---------------------------------------------------------------- dave: locked


async def test_dave_unlocks_without_a_new_password(world: World) -> None:
    b = world.backend
    assert locked(world, "dave")
    state = await b.start(Purpose.UNLOCK, "dave")
    assert [m.kind for m in state.methods] == ["email"]
    state = await email_gate(world, state, "dave@contoso.org")
    assert state.step == Step.UNLOCK
    with pytest.raises(StepOutOfOrder):
        await b.set_password(state.flow_id, NEW_PASSWORD)
    sent = world.outbox_count()
    done = await b.unlock(state.flow_id)
    assert done.step == Step.DONE and done.result == "unlocked"
    assert not locked(world, "dave")
    assert world.outbox_count() > sent  # dave is told his account was unlocked


async def test_unlocking_an_account_that_was_not_locked_says_so(world: World) -> None:
    b = world.backend
    assert not locked(world, "alice")
    state = await b.start(Purpose.UNLOCK, "alice")
    state = await email_gate(world, state, ALICE_EMAIL)
    assert state.step == Step.UNLOCK
    sent = world.outbox_count()
    done = await b.unlock(state.flow_id)
    assert done.step == Step.DONE and done.result == "not_locked"
    assert world.outbox_count() == sent  # nothing changed: no notice
    assert not locked(world, "alice")


async def test_a_reset_also_unlocks(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "dave")
    state = await email_gate(world, state, "dave@contoso.org")
    assert state.step == Step.NEW_PASSWORD
    # the reset says it cleared the lock too
    assert (await b.set_password(state.flow_id, NEW_PASSWORD)).result == "reset_unlocked"
    assert not locked(world, "dave")


# ---------------------------------------------------------------- throttling


async def test_five_wrong_codes_block_the_user(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    state = await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert state.challenge is not None
    code = world.last_code(ALICE_EMAIL)
    for n in range(1, 5):
        with pytest.raises(WrongCode):
            await b.verify_code(state.flow_id, state.challenge.id, f"{(int(code) + n) % 10**8:08d}")
    with pytest.raises(Blocked) as blocked:
        await b.verify_code(state.flow_id, state.challenge.id, f"{(int(code) + 5) % 10**8:08d}")
    assert blocked.value.support_code == state.support_code
    assert blocked.value.params["until"] and blocked.value.params["helpdesk"]
    with pytest.raises(FlowNotFound):  # the block ended the flow
        await b.verify_code(state.flow_id, state.challenge.id, code)
    with pytest.raises(Blocked):  # and holds for the next one
        await b.start(Purpose.RESET, "alice")
    # other people on the same terminal go on
    assert (await b.start(Purpose.RESET, "carol")).step == Step.CHOOSE_METHOD


async def test_the_same_wrong_code_counts_once(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    state = await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert state.challenge is not None
    code = world.last_code(ALICE_EMAIL)
    for _ in range(7):
        with pytest.raises(WrongCode):
            await b.verify_code(state.flow_id, state.challenge.id, wrong(code))
    state = await b.verify_code(state.flow_id, state.challenge.id, code)
    assert state.step == Step.NEW_PASSWORD


async def wrong_proof(world: World, state: FlowState, entry: int) -> None:
    """One wrong entry (`entry` picks which) for the first method the flow offers."""
    b = world.backend
    option = state.methods[0]
    if option.kind == MethodKind.AUTHENTICATOR:
        await b.verify_totp(state.flow_id, f"{entry:06d}")
        return
    if state.challenge is None:
        raise AssertionError("send a code first")
    await b.verify_code(state.flow_id, state.challenge.id, f"{entry:08d}")


@pytest.mark.parametrize("username", ["alice", "erin", "zoe.unknown"])
async def test_wrong_entries_say_how_many_tries_are_left(world: World, username: str) -> None:
    """The same numbers for a real account, a decoy for a real one and an unknown name: they
    come from the throttle's counters, which every flow has. A repeated entry counts once."""
    b = world.backend
    state = await b.start(Purpose.RESET, username)
    option = state.methods[0]
    if option.kind != MethodKind.AUTHENTICATOR:
        state = await b.send_code(state.flow_id, option.kind, option.channels[0])
    if username == "alice":  # a right code must not be among the wrong ones
        assert world.last_code(ALICE_EMAIL) not in {f"{n:08d}" for n in range(1, 6)}
    left = []
    for entry in (1, 2, 2, 3, 4):
        with pytest.raises((WrongCode, WrongAnswers)) as refused:
            await wrong_proof(world, state, entry)
        assert refused.value.support_code == state.support_code
        left.append(refused.value.params["remaining"])
    assert left == [4, 3, 3, 2, 1]
    with pytest.raises(Blocked) as blocked:
        await wrong_proof(world, state, 5)
    assert "remaining" not in blocked.value.params
    assert blocked.value.params["until"] == (
        world.clock.now() + timedelta(hours=24)).isoformat()


async def test_wrong_answers_say_how_many_tries_are_left(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    state = await b.questions(state.flow_id)
    with pytest.raises(WrongAnswers) as refused:
        await b.answer(state.flow_id, ["wrong", "wrong", "wrong"])
    assert refused.value.params["remaining"] == 4
