"""The operator exit's count, wait and audit trail are the engine's, per terminal (both
backends)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kiosk.backend import InvalidInput
from kiosk.engine.audit import Activity
from kiosk.engine.schema import audit_events
from tests.support.worlds import World


def audited(world: World) -> list[tuple[str, str]]:
    with world.engine.db.connect() as conn:
        rows = conn.execute(select(audit_events.c.result, audit_events.c.terminal)
                            .where(audit_events.c.activity == Activity.OPERATOR_EXIT.value)
                            .order_by(audit_events.c.id)).all()
    return [(r.result, r.terminal) for r in rows]


async def test_five_free_tries_then_a_wait(world: World) -> None:
    backend = world.backend
    assert (await backend.operator_gate()).retry_after == 0
    for n in range(1, 6):
        state = await backend.operator_exit(False)
        assert state.failures == n and not state.may_exit
    assert state.retry_after == 30
    gate = await backend.operator_gate()
    assert (gate.failures, gate.retry_after) == (5, 30)
    # the right passphrase does not get out during the wait
    assert not (await backend.operator_exit(True)).may_exit
    # another terminal has its own count
    other = await world.other_terminal()
    assert (await other.operator_gate()).failures == 0
    world.clock.advance(seconds=30)
    state = await backend.operator_exit(True)
    assert state.may_exit and state.failures == 0
    results = audited(world)
    assert [r for r, _ in results] == ["failed"] * 5 + ["blocked", "succeeded"]
    assert {t for _, t in results} == {world.terminal}


async def test_only_true_or_false(world: World) -> None:
    with pytest.raises(InvalidInput):
        await world.backend.operator_exit("yes")  # type: ignore[arg-type]
    assert audited(world) == []
