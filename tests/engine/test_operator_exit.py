"""The operator exit's limits (issue 11, item 2): wrong passphrases counted per terminal in the
database, a growing wait after five, every try audited, the admins alerted after ten."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kiosk.backend import InvalidInput
from kiosk.engine.audit import Activity
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from kiosk.engine.messages import operator_exit_alert
from kiosk.engine.operator import wait_after
from kiosk.engine.schema import audit_events
from tests.support.engine import TERMINAL

ADMIN = "carol@contoso.org"


def operator_events(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.db.connect() as conn:
        rows = conn.execute(select(audit_events.c.result, audit_events.c.terminal,
                                   audit_events.c.detail)
                            .where(audit_events.c.activity == Activity.OPERATOR_EXIT.value)
                            .order_by(audit_events.c.id)).all()
    return [(r.result, r.terminal, r.detail) for r in rows]


def alerts(engine: Engine) -> list[str]:
    return [m.subject for m in engine.outbox_messages(200)
            if m.recipient == ADMIN and "operator" in m.subject]


def fail(engine: Engine, times: int, clock: FrozenClock, terminal: str = TERMINAL) -> int:
    """`times` wrong passphrases, each once its wait is over; the last answer's wait."""
    wait = 0
    for _ in range(times):
        clock.advance(seconds=engine.session(terminal).operator_gate().retry_after)
        state = engine.session(terminal).operator_exit(False)
        assert not state.may_exit
        wait = state.retry_after
    return wait


def test_the_wait_grows_after_five_free_tries() -> None:
    assert [wait_after(n) for n in range(5)] == [0] * 5
    assert [wait_after(n) for n in range(5, 9)] == [30, 60, 120, 240]
    assert wait_after(12) == wait_after(10_000) == 3600


def test_five_free_then_thirty_seconds_then_doubling(engine: Engine, clock: FrozenClock) -> None:
    for n in range(1, 5):
        state = engine.session(TERMINAL).operator_exit(False)
        assert (state.failures, state.retry_after) == (n, 0)
    state = engine.session(TERMINAL).operator_exit(False)
    assert (state.failures, state.retry_after) == (5, 30)
    clock.advance(seconds=29)
    assert engine.session(TERMINAL).operator_gate().retry_after == 1
    clock.advance(seconds=1)
    assert engine.session(TERMINAL).operator_gate().retry_after == 0
    assert engine.session(TERMINAL).operator_exit(False).retry_after == 60
    # counted per terminal: the kiosk next door is not held up
    assert engine.session("console:other").operator_gate().retry_after == 0


def test_the_count_survives_a_restart(engine: Engine, clock: FrozenClock) -> None:
    fail(engine, 6, clock)
    again = Engine(engine.policy, clock=clock)
    try:
        state = again.session(TERMINAL).operator_gate()
        assert (state.failures, state.retry_after) == (6, 60)
    finally:
        again.db.dispose()


def test_the_right_passphrase_during_the_wait_does_not_get_out(engine: Engine,
                                                               clock: FrozenClock) -> None:
    fail(engine, 5, clock)
    state = engine.session(TERMINAL).operator_exit(True)
    assert not state.may_exit and state.retry_after == 30
    clock.advance(seconds=30)
    state = engine.session(TERMINAL).operator_exit(True)
    assert state.may_exit and state.failures == 0
    assert engine.session(TERMINAL).operator_gate().failures == 0  # cleared


def test_every_try_is_audited_with_the_terminal(engine: Engine, clock: FrozenClock) -> None:
    fail(engine, 2, clock)
    engine.session(TERMINAL).operator_exit(True)
    events = operator_events(engine)
    assert [e[0] for e in events] == ["failed", "failed", "succeeded"]
    assert {e[1] for e in events} == {TERMINAL}
    assert "wrong passphrase (2 in a row)" in events[1][2]


def test_old_failures_are_forgotten(engine: Engine, clock: FrozenClock) -> None:
    fail(engine, 5, clock)
    clock.advance(hours=25)
    assert engine.session(TERMINAL).operator_gate().failures == 0


def test_the_admins_are_alerted_after_ten_once_an_hour(engine: Engine,
                                                        clock: FrozenClock) -> None:
    fail(engine, 9, clock)
    assert alerts(engine) == []
    fail(engine, 1, clock)
    assert len(alerts(engine)) == 1 and TERMINAL in alerts(engine)[0]
    message = next(m for m in engine.outbox_messages(200) if m.recipient == ADMIN)
    assert "10 times" in message.body and "audit log" in message.body
    fail(engine, 1, clock)  # the 11th comes 960 s later: within the hour
    assert len(alerts(engine)) == 1
    clock.advance(hours=1)
    fail(engine, 1, clock)
    assert len(alerts(engine)) == 2
    assert sum(e[0] == "contacted_admin" for e in operator_events(engine)) == 2


def test_a_wrong_value_is_refused(engine: Engine) -> None:
    for value in ("true", 1, None):
        with pytest.raises(InvalidInput):
            engine.session(TERMINAL).operator_exit(value)
    assert operator_events(engine) == []


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_alert_reads_well(language: str) -> None:
    message = operator_exit_alert("email", ADMIN, failures=12, org="Contoso",
                                  when=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
                                  terminal="console:lobby", language=language)
    assert "console:lobby" in message.subject and "12" in message.body
    assert message.purpose == "alert" and message.html is not None
