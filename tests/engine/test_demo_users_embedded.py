"""Every demo user's main path through EmbeddedBackend (the async protocol the UI uses)."""

from __future__ import annotations

import pytest

from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.backend import (
    Channel,
    MethodKind,
    NotEligible,
    NotRegistered,
    Purpose,
    QuestionAnswer,
    Step,
)
from kiosk.engine.demo import BOB_TOTP_SECRET, DEMO_USERS
from kiosk.engine.engine import Engine
from kiosk.engine.totp import code_at
from tests.support.engine import TERMINAL, last_code

NEW = "Harbour kiosk lantern 2041"


@pytest.fixture
def backend(engine: Engine) -> EmbeddedBackend:
    return EmbeddedBackend(engine, terminal=TERMINAL)


def test_the_demo_has_exactly_the_six_users(engine: Engine) -> None:
    names = [u.username for u in engine.directory.all_users(engine.db.connect())]
    assert names == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert [u.username for u in DEMO_USERS] == names


async def code_gate(backend: EmbeddedBackend, engine: Engine, flow_id: str, kind: MethodKind,
                    channel: Channel, recipient: str):  # type: ignore[no-untyped-def]
    state = await backend.send_code(flow_id, kind, channel)
    assert state.challenge is not None
    return await backend.verify_code(flow_id, state.challenge.id, last_code(engine, recipient))


async def test_alice(backend: EmbeddedBackend, engine: Engine) -> None:
    state = await backend.start(Purpose.RESET, "alice")
    state = await backend.questions(state.flow_id)
    answers = {"pet": "rex", "city": "springfield", "nickname": "ally"}
    state = await backend.answer(state.flow_id, [answers[q.id] for q in state.questions])
    assert (await backend.set_password(state.flow_id, NEW)).result == "reset"


async def test_bob(backend: EmbeddedBackend, engine: Engine) -> None:
    state = await backend.start(Purpose.RESET, "bob")
    state = await backend.verify_totp(state.flow_id, code_at(BOB_TOTP_SECRET, engine.clock.now()))
    assert (await backend.set_password(state.flow_id, NEW)).result == "reset"


async def test_carol(backend: EmbeddedBackend, engine: Engine) -> None:
    state = await backend.start(Purpose.RESET, "carol")
    state = await code_gate(backend, engine, state.flow_id, MethodKind.EMAIL, Channel.EMAIL,
                            "carol@contoso.org")
    state = await code_gate(backend, engine, state.flow_id, MethodKind.MOBILE, Channel.CALL,
                            "+14255550143")
    assert (await backend.set_password(state.flow_id, NEW)).result == "reset"


async def test_dave(backend: EmbeddedBackend, engine: Engine) -> None:
    state = await backend.start(Purpose.UNLOCK, "dave")
    state = await code_gate(backend, engine, state.flow_id, MethodKind.EMAIL, Channel.EMAIL,
                            "dave@contoso.org")
    assert (await backend.unlock(state.flow_id)).result == "unlocked"


async def nothing_arrives(backend: EmbeddedBackend, engine: Engine, name: str) -> None:
    """Enumeration-safe: the start looks like anyone's; the code never arrives."""
    state = await backend.start(Purpose.RESET, name)
    assert state.step == Step.CHOOSE_METHOD and state.gates_required == 1
    before = len(engine.outbox_messages(50))
    # the decoy's methods come from the run's key: it may show only questions or an app
    option = next((m for m in state.methods if m.channels), None)
    if option is not None:
        state = await backend.send_code(state.flow_id, option.kind, option.channels[0])
        assert state.step == Step.VERIFY_CODE
        assert len(engine.outbox_messages(50)) == before  # nothing is ever sent for a decoy
    await backend.cancel(state.flow_id)


async def test_erin(backend: EmbeddedBackend, engine: Engine) -> None:
    await nothing_arrives(backend, engine, "erin")
    state = await backend.start(Purpose.REGISTER, "erin")
    state = await backend.sign_in(state.flow_id, "Erin-demo-pass-1")
    assert state.step == Step.REGISTER  # nothing registered: the password is all there is
    pool = await backend.question_pool(state.flow_id)
    state = await backend.set_questions(state.flow_id, [
        QuestionAnswer(question_id=q.id, answer=a) for q, a in zip(pool, ("mittens", "oslo",
                                                                          "bee"), strict=False)])
    state = await backend.finish_registration(state.flow_id)
    assert state.step == Step.DONE and state.result == "registered"
    state = await backend.start(Purpose.RESET, "erin")
    assert [m.kind for m in state.methods] == [MethodKind.QUESTIONS]


async def test_erin_and_frank_are_told_only_after_proving_the_password(
        tmp_path, engine: Engine, backend: EmbeddedBackend) -> None:  # type: ignore[no-untyped-def]
    state = await backend.start(Purpose.REGISTER, "frank")
    with pytest.raises(NotEligible):
        await backend.sign_in(state.flow_id, "Frank-demo-pass-1")


async def test_frank(backend: EmbeddedBackend, engine: Engine) -> None:
    await nothing_arrives(backend, engine, "frank")


async def test_explicit_answers_when_enumeration_safety_is_off(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.engine import make_engine

    backend = EmbeddedBackend(make_engine(tmp_path, privacy={"enumeration_safe": False}),
                              terminal=TERMINAL)
    with pytest.raises(NotRegistered):
        await backend.start(Purpose.RESET, "erin")
    with pytest.raises(NotEligible):
        await backend.start(Purpose.RESET, "frank")
