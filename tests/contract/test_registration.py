"""Signing in and registering security info (both backends)."""

from __future__ import annotations

import pytest

from kiosk.backend import (
    Channel,
    InvalidInput,
    MethodKind,
    Purpose,
    QuestionAnswer,
    Step,
    WrongCode,
    WrongPassword,
)
from kiosk.engine.totp import code_at
from tests.support.worlds import World

ERIN_PASSWORD = "Erin-demo-pass-1"


async def test_erin_registers_email_questions_and_authenticator(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.REGISTER, "erin")
    assert state.step == Step.SIGN_IN
    with pytest.raises(WrongPassword):
        await b.sign_in(state.flow_id, "not-her-password")
    state = await b.sign_in(state.flow_id, ERIN_PASSWORD)
    assert state.step == Step.REGISTER and state.registration is not None
    assert state.registration.registered == [] and state.registration.missing == 1

    pool = await b.question_pool(state.flow_id)
    assert len(pool) >= 20 and {"pet", "city", "school"} <= {q.id for q in pool}

    state = await b.add_email(state.flow_id, "erin@example.org")
    assert state.challenge is not None and state.challenge.method == MethodKind.EMAIL
    code = world.last_code("erin@example.org")
    with pytest.raises(WrongCode):
        await b.confirm_contact(state.flow_id, state.challenge.id,
                                f"{(int(code) + 1) % 10**8:08d}")
    state = await b.confirm_contact(state.flow_id, state.challenge.id, code)
    assert state.registration is not None and state.registration.missing == 0
    assert [m.kind for m in state.registration.registered] == [MethodKind.EMAIL]

    state = await b.add_phone(state.flow_id, MethodKind.MOBILE, "+1 425 555 0177", Channel.TEXT)
    assert state.challenge is not None
    state = await b.confirm_contact(state.flow_id, state.challenge.id,
                                    world.last_code("+14255550177"))

    state = await b.set_questions(state.flow_id, [
        QuestionAnswer(question_id="pet", answer="whiskers"),
        QuestionAnswer(question_id="city", answer="lisbon"),
        QuestionAnswer(custom_text="Which lake did we row on?", answer="windermere"),
    ])
    assert state.registration is not None
    assert "questions" in [m.kind for m in state.registration.registered]

    enrolment = await b.begin_authenticator(state.flow_id)
    assert enrolment.uri.startswith("otpauth://totp/") and len(enrolment.secret) == 32
    with pytest.raises(InvalidInput):
        await b.confirm_authenticator(state.flow_id, "12")
    first = code_at(enrolment.secret, world.clock.now())
    state = await b.confirm_authenticator(state.flow_id, first)
    kinds = {m.kind for m in state.registration.registered} if state.registration else set()
    assert kinds == {"email", "mobile", "questions", "authenticator"}

    done = await b.finish_registration(state.flow_id)
    assert done.step == Step.DONE and done.result == "registered"

    # now she can reset, and the authenticator she registered is required
    reset = await b.start(Purpose.RESET, "erin")
    assert [m.kind for m in reset.methods] == [MethodKind.AUTHENTICATOR]
    world.clock.advance(seconds=30)
    reset = await b.verify_totp(reset.flow_id, code_at(enrolment.secret, world.clock.now()))
    assert reset.step == Step.NEW_PASSWORD


async def test_change_needs_the_current_password(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.CHANGE, "alice")
    assert state.step == Step.SIGN_IN
    state = await b.sign_in(state.flow_id, "Alice-demo-pass-1")
    assert state.step == Step.NEW_PASSWORD
    done = await b.set_password(state.flow_id, "Copper kettle on the 7th hill")
    assert done.result == "changed"


async def test_invalid_contacts_are_refused(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.REGISTER, "alice")
    state = await b.sign_in(state.flow_id, "Alice-demo-pass-1")
    for address in ("not-an-address", "a@", ""):
        with pytest.raises(InvalidInput):
            await b.add_email(state.flow_id, address)
    with pytest.raises(InvalidInput):
        await b.add_phone(state.flow_id, MethodKind.MOBILE, "call me", Channel.TEXT)
    with pytest.raises(InvalidInput):
        await b.add_phone(state.flow_id, MethodKind.OFFICE, "+1 425 555 0100", Channel.TEXT)
    with pytest.raises(InvalidInput):
        await b.add_phone(state.flow_id, MethodKind.EMAIL, "+1 425 555 0100",
                          Channel.EMAIL)
