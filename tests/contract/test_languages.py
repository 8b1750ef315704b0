"""The visitor's language travels with the flow alike on both backends: a German start gets
German codes and notices, a garbage language is refused naming the field, an unsupported one
falls back to the organisation's default."""

from __future__ import annotations

import pytest

from kiosk.backend import Channel, InvalidInput, MethodKind, Purpose, Step
from tests.support.worlds import World

ALICE_EMAIL = "alice@contoso.org"


def mail_to(world: World, recipient: str) -> list[str]:
    """Subjects sent to `recipient`, oldest first."""
    return [m.subject for m in reversed(world.engine.outbox_messages(200))
            if m.recipient == recipient]


async def test_a_german_start_gets_german_codes_and_notices(world: World) -> None:
    b = world.backend
    state = await b.start(Purpose.RESET, "alice", "de")
    state = await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
    assert state.challenge is not None
    state = await b.verify_code(state.flow_id, state.challenge.id, world.last_code(ALICE_EMAIL))
    assert state.step == Step.NEW_PASSWORD
    await b.set_password(state.flow_id, "Violet-harbour-lantern-93")
    assert mail_to(world, ALICE_EMAIL) == [
        "Contoso (training): Ihr Code für die Passwortzurücksetzung",
        "Contoso (training): Ihr Passwort wurde zurückgesetzt"]


async def test_without_a_language_or_with_an_unoffered_one_the_default(world: World) -> None:
    b = world.backend
    for language in (None, "fr-CA"):
        state = await b.start(Purpose.RESET, "alice", language)
        await b.send_code(state.flow_id, MethodKind.EMAIL, Channel.EMAIL)
        assert mail_to(world, ALICE_EMAIL)[-1] == "Contoso (training): your password reset code"
        await b.cancel(state.flow_id)


@pytest.mark.parametrize("garbage", ["", "x" * 36, "de\nBcc: x", "<b>de</b>", "de--AT"])
async def test_a_garbage_language_is_refused_naming_the_field(world: World,
                                                              garbage: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await world.backend.start(Purpose.RESET, "alice", garbage)
    assert refused.value.params.get("field") == "language"
    assert world.outbox_count() == 0
