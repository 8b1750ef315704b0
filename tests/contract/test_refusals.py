"""Refusals, the decoy, order of steps, bad input, expiry, terminals (both backends)."""

from __future__ import annotations

import pytest

from kiosk.backend import (
    Channel,
    FlowExpired,
    FlowNotFound,
    InvalidInput,
    MethodKind,
    NotAvailable,
    NotEligible,
    Purpose,
    QuestionAnswer,
    Step,
    StepOutOfOrder,
    WrongAnswers,
    WrongCode,
    WrongPassword,
)
from tests.support.worlds import World, WorldFactory

FAKE_ID = "x" * 32


async def test_branding_is_the_engines(world: World) -> None:
    branding = await world.backend.branding()
    assert branding == world.engine.branding()
    assert branding.demo and branding.organization == "Contoso (training)"


async def nothing_arrives(world: World, purpose: Purpose, name: str) -> None:
    """Enumeration-safe: a start like anyone's, and codes that never arrive; the code screen
    tells everybody to ask the helpdesk when nothing comes."""
    state = await world.backend.start(purpose, name)
    assert state.step == Step.CHOOSE_METHOD and state.gates_required == 1 and state.methods
    option = next((m for m in state.methods if m.channels), None)
    before = world.engine.outbox_messages(200)
    if option is not None:
        state = await world.backend.send_code(state.flow_id, option.kind, option.channels[0])
        assert state.step == Step.VERIFY_CODE
        assert world.engine.outbox_messages(200) == before  # nothing was sent to anyone
    await world.backend.cancel(state.flow_id)


async def test_erin_has_nothing_registered(world: World) -> None:
    await nothing_arrives(world, Purpose.RESET, "erin")
    # but she may sign in and register
    state = await world.backend.start(Purpose.REGISTER, "erin")
    assert state.step == Step.SIGN_IN
    state = await world.backend.sign_in(state.flow_id, "Erin-demo-pass-1")
    assert state.step == Step.REGISTER


async def test_frank_is_not_eligible(world: World) -> None:
    for purpose in (Purpose.RESET, Purpose.UNLOCK):
        await nothing_arrives(world, purpose, "frank")
    # registering: his own password (and nobody else's guess) learns why not
    state = await world.backend.start(Purpose.REGISTER, "frank")
    with pytest.raises(WrongPassword):
        await world.backend.sign_in(state.flow_id, "guess-1234")
    with pytest.raises(NotEligible) as refused:
        await world.backend.sign_in(state.flow_id, "Frank-demo-pass-1")
    assert refused.value.params["reason"] == "scope" and refused.value.support_code


async def test_an_unknown_user_gets_a_decoy_that_looks_real(world: World) -> None:
    b = world.backend
    real = await b.start(Purpose.RESET, "alice")
    decoy = await b.start(Purpose.RESET, "zoe.unknown")
    assert decoy.step == real.step == Step.CHOOSE_METHOD
    assert decoy.gates_required == real.gates_required
    assert decoy.support_code and decoy.support_code != real.support_code
    assert set(decoy.model_dump()) == set(real.model_dump())
    assert decoy.methods
    for option in decoy.methods:
        assert option.kind in set(MethodKind)
        if option.kind in (MethodKind.EMAIL, MethodKind.MOBILE, MethodKind.OFFICE):
            assert "•" in option.masked
    # the same name gets the same decoy
    again = await b.start(Purpose.RESET, "Zoe.Unknown")
    assert again.methods == decoy.methods

    sent_before = world.outbox_count()
    option = decoy.methods[0]
    if option.kind in (MethodKind.EMAIL, MethodKind.MOBILE, MethodKind.OFFICE):
        state = await b.send_code(again.flow_id, option.kind, option.channels[0])
        assert state.step == Step.VERIFY_CODE and state.challenge is not None
        assert state.challenge.masked == option.masked
        with pytest.raises(WrongCode):
            await b.verify_code(again.flow_id, state.challenge.id, "12345678")
    elif option.kind == MethodKind.QUESTIONS:
        state = await b.questions(again.flow_id)
        assert state.step == Step.ANSWER_QUESTIONS and state.questions
        with pytest.raises(WrongAnswers):
            await b.answer(again.flow_id, ["first", "second", "third"][:len(state.questions)])
    else:
        with pytest.raises(WrongCode):
            await b.verify_totp(again.flow_id, "123456")
    assert world.outbox_count() == sent_before  # nothing is ever sent for an unknown name


async def test_calls_out_of_order_are_refused(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    flow = state.flow_id
    calls = [
        b.verify_code(flow, FAKE_ID[:16], "12345678"),
        b.answer(flow, ["a", "b", "c"]),
        b.check_password(flow, "Violet-harbour-lantern-93"),
        b.set_password(flow, "Violet-harbour-lantern-93"),
        b.unlock(flow),
        b.sign_in(flow, "Alice-demo-pass-1"),
        b.add_email(flow, "alice@example.org"),
        b.begin_authenticator(flow),
        b.finish_registration(flow),
    ]
    for call in calls:
        with pytest.raises(StepOutOfOrder) as refused:
            await call
        assert refused.value.params == {"step": "choose_method"}
        assert refused.value.support_code == state.support_code
    # the flow is still usable after all that
    state = await b.questions(flow)
    assert state.step == Step.ANSWER_QUESTIONS


async def test_cancel_ends_the_flow(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    cancelled = await b.cancel(state.flow_id)
    assert cancelled.step == Step.CANCELLED and cancelled.support_code == state.support_code
    for call in (b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL),
                 b.cancel(state.flow_id)):
        with pytest.raises(FlowNotFound):
            await call


async def test_unknown_flows_are_not_found(world: World) -> None:
    b = world.backend
    for flow_id in (FAKE_ID, "short", "../../admin/users", "a/b/c/d/e/f/g/h/i/j"):
        with pytest.raises(FlowNotFound):
            await b.questions(flow_id)


async def test_a_flow_belongs_to_its_terminal(world: World) -> None:
    state = await world.backend.start(Purpose.RESET, "alice")
    other = await world.other_terminal()
    with pytest.raises(FlowNotFound):
        await other.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    with pytest.raises(FlowNotFound):
        await other.cancel(state.flow_id)
    assert (await world.backend.questions(state.flow_id)).step == Step.ANSWER_QUESTIONS


async def test_bad_input_is_invalid_input(world: World) -> None:
    b = world.backend
    bad_starts = [("bogus", "alice"), (Purpose.RESET, ""), (Purpose.RESET, "   "),
                  (Purpose.RESET, "al\x00ice"), (Purpose.RESET, "x" * 300)]
    for purpose, name in bad_starts:
        with pytest.raises(InvalidInput):
            await b.start(purpose, name)  # type: ignore[arg-type]
    state = await b.start(Purpose.RESET, "alice")
    flow = state.flow_id
    for method, channel in (("questions", "email"), ("email", "text"), ("fax", "email"),
                            ("mobile", "pigeon")):
        with pytest.raises(InvalidInput):
            await b.send_code(flow, method, channel)  # type: ignore[arg-type]
    state = await b.send_code(flow, MethodKind.EMAIL, Channel.EMAIL)
    assert state.challenge is not None
    for code in ("12ab5678", "123", "1" * 70, ""):
        with pytest.raises(InvalidInput) as refused:
            await b.verify_code(flow, state.challenge.id, code)
        assert refused.value.params.get("field") == "code"
    with pytest.raises(InvalidInput):
        await b.verify_code(flow, "no-such-challenge", "12345678")
    state = await b.questions(flow)
    with pytest.raises(InvalidInput):
        await b.answer(flow, "rex springfield ally")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        await b.answer(flow, ["a"] * 11)
    with pytest.raises(InvalidInput):
        await b.answer(flow, [1, 2, 3])  # type: ignore[list-item]


async def test_invalid_input_never_echoes_a_secret(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    secret = "Sup3r-secret-" + "z" * 5000
    state = await b.questions(state.flow_id)
    with pytest.raises(InvalidInput) as refused:
        await b.answer(state.flow_id, [secret, secret, secret])
    assert "Sup3r-secret" not in str(refused.value) + repr(refused.value.params)
    with pytest.raises(InvalidInput) as refused:
        await b.check_password(state.flow_id, "Sup3r-secret" + "p" * 5000)
    assert "Sup3r-secret" not in str(refused.value) + repr(refused.value.params)


async def test_an_expired_flow_is_refused_then_gone(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice")
    world.clock.advance(minutes=15, seconds=1)
    with pytest.raises(FlowExpired) as expired:
        await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert expired.value.support_code == state.support_code
    with pytest.raises(FlowNotFound):
        await b.questions(state.flow_id)


async def test_outbox_in_demo_mode_only(make_world: WorldFactory) -> None:
    demo = await make_world()
    state = await demo.backend.start(Purpose.RESET, "alice")
    await demo.backend.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    messages = await demo.backend.outbox(5)
    assert messages == demo.engine.outbox_messages(5)
    assert messages[0].recipient == "alice@contoso.org"
    with pytest.raises(InvalidInput):
        await demo.backend.outbox(0)

    real = await make_world(demo=False)
    assert not (await real.backend.branding()).demo
    with pytest.raises(NotAvailable):
        await real.backend.outbox()


async def test_registration_questions_are_validated(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.REGISTER, "erin")
    state = await b.sign_in(state.flow_id, "Erin-demo-pass-1")
    same_answers = [QuestionAnswer(question_id=q, answer="lisbon")
                    for q in ("pet", "city", "school")]
    with pytest.raises(InvalidInput) as refused:
        await b.set_questions(state.flow_id, same_answers)
    assert refused.value.params["problems"]
    with pytest.raises(InvalidInput):
        await b.set_questions(state.flow_id, same_answers[:2])
