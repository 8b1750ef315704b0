"""A temporary access pass at the kiosk: the same behaviour embedded and over the API."""

from __future__ import annotations

import pytest

from kiosk.backend import Purpose, Step, WrongCode
from kiosk.desk import PassRequest
from kiosk.engine.helpdesk import Helpdesk
from tests.support.worlds import WorldFactory


async def test_erin_uses_a_pass_and_a_wrong_one_counts(make_world: WorldFactory) -> None:
    world = await make_world(passes={"enabled": True})
    b = world.backend
    text = Helpdesk(world.engine).issue_pass("ann", PassRequest(username="erin")).access_pass
    state = await b.start(Purpose.RESET, "erin")
    assert state.methods[-1].kind == "pass"
    with pytest.raises(WrongCode) as wrong:
        await b.verify_pass(state.flow_id, "ABCD EFGH JK")
    assert wrong.value.params["remaining"] == world.engine.policy.throttle.verify_failures - 1
    state = await b.verify_pass(state.flow_id, text.lower())
    assert state.step == Step.NEW_PASSWORD
