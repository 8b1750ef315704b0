"""Throttling with the numbers of DESIGN.md, both sides of each boundary."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk.backend import Blocked, WrongAnswers, WrongCode
from kiosk.engine.audit import Activity
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from kiosk.engine.schema import audit_events, blocks
from tests.support.engine import TERMINAL, email_gate, last_code, make_engine, wrong


def wrong_codes(engine: Engine, flow_id: str, count: int, user: str = "alice") -> None:
    """Enter `count` different wrong codes for the current challenge."""
    state = engine.session(TERMINAL).send_code(flow_id, "email", "email")
    code = last_code(engine)
    for n in range(count):
        bad = f"{(int(code) + n + 1) % 10**8:08d}"
        with pytest.raises(WrongCode):
            engine.session(TERMINAL).verify_code(flow_id, state.challenge.id, bad)  # type: ignore[union-attr]


def block_count(engine: Engine) -> int:
    with engine.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(blocks)).scalar_one())


def test_four_wrong_codes_do_not_block_the_fifth_does(engine: Engine, clock: FrozenClock) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    wrong_codes(engine, state.flow_id, 4)
    challenge = engine.session(TERMINAL).questions(state.flow_id)  # still allowed after four
    assert challenge.questions
    state = engine.session(TERMINAL).start("reset", "alice")
    s = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    with pytest.raises(Blocked) as err:
        engine.session(TERMINAL).verify_code(
            state.flow_id, s.challenge.id, wrong(last_code(engine)))  # type: ignore[union-attr]
    assert err.value.support_code and err.value.params["helpdesk"]
    with pytest.raises(Blocked):
        engine.session(TERMINAL).start("reset", "alice")
    clock.advance(hours=23, minutes=59)
    with pytest.raises(Blocked):
        engine.session(TERMINAL).start("reset", "alice")
    clock.advance(minutes=1)  # the 24-hour block is over
    assert engine.session(TERMINAL).start("reset", "alice").methods


def test_failures_older_than_an_hour_do_not_count(engine: Engine, clock: FrozenClock) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    wrong_codes(engine, state.flow_id, 4)
    clock.advance(minutes=61)
    state = engine.session(TERMINAL).start("reset", "alice")
    wrong_codes(engine, state.flow_id, 4)  # 4 in the last hour: no block
    assert block_count(engine) == 0


def test_failures_of_different_methods_count_separately(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    wrong_codes(engine, state.flow_id, 4)
    state = engine.session(TERMINAL).questions(state.flow_id)
    for n in range(4):
        with pytest.raises(WrongAnswers):
            engine.session(TERMINAL).answer(state.flow_id, [f"wrong{n}"] * 3)
    assert block_count(engine) == 0


def test_the_same_wrong_code_again_counts_once(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    s = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    bad = wrong(last_code(engine))
    for _ in range(8):
        with pytest.raises(WrongCode):
            engine.session(TERMINAL).verify_code(state.flow_id, s.challenge.id, bad)  # type: ignore[union-attr]
    assert block_count(engine) == 0


def test_ten_codes_in_ten_minutes_then_blocked(engine: Engine, clock: FrozenClock) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    for n in range(10):
        engine.session(TERMINAL).send_code(state.flow_id, "email" if n % 2 else "mobile",
                         "email" if n % 2 else "text")
        clock.advance(seconds=50)
    with pytest.raises(Blocked) as err:  # the eleventh within ten minutes
        engine.session(TERMINAL).send_code(state.flow_id, "mobile", "text")
    assert err.value.code == "blocked"
    with engine.db.connect() as conn:
        reasons = conn.execute(select(blocks.c.reason)).scalars().all()
        blocked_events = conn.execute(select(func.count()).select_from(audit_events).where(
            audit_events.c.activity == Activity.BLOCKED.value)).scalar_one()
    assert reasons == ["too_many_codes"] and blocked_events == 1


def test_codes_spread_over_more_than_ten_minutes_are_fine(engine: Engine,
                                                           clock: FrozenClock) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    for n in range(14):
        engine.session(TERMINAL).send_code(state.flow_id, "email" if n % 2 else "mobile",
                         "email" if n % 2 else "text")
        clock.advance(seconds=61)
    assert block_count(engine) == 0


def test_five_failed_flows_in_a_day_block(engine: Engine, clock: FrozenClock) -> None:
    for _ in range(4):
        state = engine.session(TERMINAL).start("reset", "alice")
        engine.session(TERMINAL).send_code(state.flow_id, "email", "email")  # tried, then gave up
        engine.session(TERMINAL).cancel(state.flow_id)
        clock.advance(hours=1)
    assert block_count(engine) == 0
    state = engine.session(TERMINAL).start("reset", "alice")
    engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    clock.advance(minutes=16)  # walked away: the flow expires and counts when next seen
    with pytest.raises(Blocked):
        engine.session(TERMINAL).start("reset", "alice")


def test_a_flow_given_up_before_trying_does_not_count(engine: Engine) -> None:
    for _ in range(6):
        state = engine.session(TERMINAL).start("reset", "alice")
        engine.session(TERMINAL).cancel(state.flow_id)
    assert block_count(engine) == 0


def test_success_clears_the_counters(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    wrong_codes(engine, state.flow_id, 4)
    state = email_gate(engine, engine.session(TERMINAL).start("reset", "alice"))
    engine.session(TERMINAL).set_password(state.flow_id, "Fresh mountain kiosk words 8")
    state = engine.session(TERMINAL).start("reset", "alice")
    wrong_codes(engine, state.flow_id, 4)  # four more: still not blocked, the slate was clean
    assert block_count(engine) == 0


def test_unknown_names_are_throttled_like_real_ones(engine: Engine) -> None:
    name = next(n for n in (f"nobody{i}" for i in range(40)) if "email" in
                {m.kind.value for m in engine.session(TERMINAL).start("reset", n).methods})
    state = engine.session(TERMINAL).start("reset", name)
    sent = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert sent.challenge is not None
    for n in range(5):
        expected = Blocked if n == 4 else WrongCode
        with pytest.raises(expected):
            engine.session(TERMINAL).verify_code(state.flow_id, sent.challenge.id, f"{n:08d}")


def test_a_terminal_trying_many_names_is_blocked(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, throttle={"terminal_verify_failures": 6})
    names = [f"user{n}" for n in range(40)]
    # decoys whose methods include a code by email (some decoys show only an authenticator)
    names = [n for n in names if "email" in {m.kind.value for m in
                                             engine.session(TERMINAL).start("reset",
                                                                            n).methods}][:3]
    for name in names:
        state = engine.session(TERMINAL).start("reset", name)
        s = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
        for attempt in range(2):
            with contextlib.suppress(WrongCode, Blocked):
                engine.session(TERMINAL).verify_code(
                    state.flow_id, s.challenge.id, f"{attempt:08d}")  # type: ignore[union-attr]
    with pytest.raises(Blocked):
        engine.session(TERMINAL).start("reset", "alice")
    # the block is the terminal's: another kiosk still serves alice
    assert engine.session("console:other").start("reset", "alice").methods


def test_admins_get_one_misuse_alert_per_block(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "alice")
    wrong_codes(engine, state.flow_id, 4)
    state = engine.session(TERMINAL).start("reset", "alice")
    s = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    with pytest.raises(Blocked):
        engine.session(TERMINAL).verify_code(
            state.flow_id, s.challenge.id, wrong(last_code(engine)))  # type: ignore[union-attr]
    for _ in range(3):
        with pytest.raises(Blocked):
            engine.session(TERMINAL).start("reset", "alice")
    alerts = [m for m in engine.outbox_messages(50) if m.recipient == "carol@contoso.org"]
    assert len(alerts) == 1 and "alice" in alerts[0].body


def wrong_answers_at(engine: Engine, name: str, terminal: str = TERMINAL) -> None:
    """One wrong answer set for `name` (a decoy offering questions, or a real user)."""
    state = engine.session(terminal).start("reset", name)
    state = engine.session(terminal).questions(state.flow_id)
    engine.session(terminal).answer(state.flow_id, ["wrong-a", "wrong-b", "wrong-c"])


def names_with_questions(engine: Engine, count: int) -> list[str]:
    names = [f"nobody{n}" for n in range(80)]
    return [n for n in names if "questions" in {m.kind.value for m in
                                                engine.session("console:probe").start("reset",
                                                                                      n).methods}
            ][:count]


def test_a_terminal_trying_many_names_slows_down_before_it_is_blocked(
        tmp_path: Path, clock: FrozenClock) -> None:
    """Proportionate: after the free failures each next attempt at that terminal waits
    longer (delay × 2^n); other terminals are not slowed; the hard block stays."""
    from kiosk.backend import SlowDown

    engine = make_engine(tmp_path, clock, throttle={"terminal_delay_after": 3,
                                                    "terminal_delay_seconds": 10})
    names = names_with_questions(engine, 7)
    for name in names[:3]:
        with pytest.raises(WrongAnswers):
            wrong_answers_at(engine, name)
    with pytest.raises(SlowDown) as slow:
        wrong_answers_at(engine, names[3])
    assert slow.value.params["retry_after"] == 10
    assert engine.session("console:other").start("reset", "alice").methods  # another kiosk: no wait
    clock.advance(seconds=10)
    with pytest.raises(WrongAnswers):
        wrong_answers_at(engine, names[4])  # waited: checked, and the next wait doubles
    with pytest.raises(SlowDown) as slow:
        wrong_answers_at(engine, names[5])
    assert slow.value.params["retry_after"] == 20
    clock.advance(seconds=20)
    with pytest.raises(WrongAnswers):
        wrong_answers_at(engine, names[6])


def test_the_operator_sees_a_slowed_terminal_and_lifts_it(tmp_path: Path,
                                                          clock: FrozenClock) -> None:
    from kiosk.engine.report import render_report
    from kiosk.engine.throttle import lift_terminal, terminal_states

    engine = make_engine(tmp_path, clock, throttle={"terminal_delay_after": 2,
                                                    "terminal_delay_seconds": 60})
    for name in names_with_questions(engine, 2):
        with pytest.raises(WrongAnswers):
            wrong_answers_at(engine, name)
    with engine.db.connect() as conn:
        [state] = terminal_states(engine.throttle, conn, clock.now())
    assert (state.terminal, state.failures, state.wait_seconds) == (TERMINAL, 2, 60)
    from kiosk.engine.admin import Admin
    from kiosk.engine.report import build_report

    report = build_report(Admin(engine), clock.now(), clock.now())
    assert f"{TERMINAL}  2 failed verifications  waits 60 s" in render_report(report)
    with engine.db.begin() as conn:
        lift_terminal(engine.throttle, conn, clock.now(), TERMINAL)
    with engine.db.connect() as conn:
        assert terminal_states(engine.throttle, conn, clock.now()) == []
