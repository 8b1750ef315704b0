"""Enumeration safety (decoys) and all-or-nothing password changes."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from kiosk.backend import NotEligible, Step, WrongAnswers, WrongCode, WrongPassword
from kiosk.engine import audit
from kiosk.engine.engine import Engine
from kiosk.engine.schema import audit_events, flows, password_history, users
from tests.support.engine import TERMINAL, email_gate, make_engine


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement.split()[0])

    event.listen(engine.db, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.db, "before_cursor_execute", record)


def test_an_unknown_name_gets_a_plausible_stable_decoy(engine: Engine) -> None:
    real = engine.session(TERMINAL).start("reset", "alice")
    # the server key is new each run; some decoys show only an authenticator app (like bob):
    # take a name whose decoy shows a masked address
    name = next(n for n in (f"mallory{i}" for i in range(40)) if any(
        m.channels for m in engine.session(TERMINAL).start("reset", n).methods))
    decoy = engine.session(TERMINAL).start("reset", name)
    again = engine.session(TERMINAL).start("reset", name)
    assert decoy.step == real.step == Step.CHOOSE_METHOD
    assert decoy.gates_required == real.gates_required
    assert [(m.kind, m.masked) for m in decoy.methods] == [(m.kind, m.masked)
                                                         for m in again.methods]
    assert decoy.methods and all("•" in m.masked for m in decoy.methods if m.channels)
    assert decoy.methods[0].masked.startswith("m")  # the first letter, like a real mask
    assert set(decoy.model_dump()) == set(real.model_dump())


def test_a_decoy_sends_nothing_and_never_verifies(engine: Engine) -> None:
    names = [f"ghost{n}" for n in range(30)]
    name = next(n for n in names if "email" in
                [m.kind.value for m in engine.session(TERMINAL).start("reset", n).methods])
    state = engine.session(TERMINAL).start("reset", name)
    before = len(engine.outbox_messages(200))
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert state.step == Step.VERIFY_CODE and state.challenge is not None
    assert len(engine.outbox_messages(200)) == before
    with pytest.raises(WrongCode):
        engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id, "12345678")


def test_decoy_questions_and_sign_in_fail_like_real_ones(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, authenticator={"required_if_registered": False})
    name = next(f"nobody{n}" for n in range(60) if "questions" in
                [m.kind.value for m in engine.session(TERMINAL).start("reset",
                                                                      f"nobody{n}").methods])
    state = engine.session(TERMINAL).questions(engine.session(TERMINAL).start("reset",
                                                                              name).flow_id)
    assert len(state.questions) == 3
    with pytest.raises(WrongAnswers):
        engine.session(TERMINAL).answer(state.flow_id, ["rex", "springfield", "ally"])
    change = engine.session(TERMINAL).start("change", name)
    assert change.step == Step.SIGN_IN
    with pytest.raises(WrongPassword):
        engine.session(TERMINAL).sign_in(change.flow_id, "Alice-demo-pass-1")


def test_decoy_and_real_start_run_the_same_statements(engine: Engine) -> None:
    engine.session(TERMINAL).start("reset", "alice")  # warm caches and open connections
    engine.session(TERMINAL).start("reset", "mallory")
    with counting_statements(engine) as real:
        engine.session(TERMINAL).start("reset", "alice")
    with counting_statements(engine) as decoy:
        engine.session(TERMINAL).start("reset", "mallory")
    assert decoy == real


def test_decoy_and_real_answers_do_the_same_argon2_work(engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[bool] = []
    original = engine.hasher.verify

    def spy(hashed, secret):  # type: ignore[no-untyped-def]
        calls.append(hashed is None)
        return original(hashed, secret)

    monkeypatch.setattr(engine.hasher, "verify", spy)
    real = engine.session(TERMINAL).questions(engine.session(TERMINAL).start("reset",
                                                                             "alice").flow_id)
    with pytest.raises(WrongAnswers):
        engine.session(TERMINAL).answer(real.flow_id, ["a1x", "b2y", "c3z"])
    real_calls = len(calls)
    name = next(f"nobody{n}" for n in range(60) if "questions" in
                [m.kind.value for m in engine.session(TERMINAL).start("reset",
                                                                      f"nobody{n}").methods])
    decoy = engine.session(TERMINAL).questions(engine.session(TERMINAL).start("reset",
                                                                              name).flow_id)
    calls.clear()
    with pytest.raises(WrongAnswers):
        engine.session(TERMINAL).answer(decoy.flow_id, ["a1x", "b2y", "c3z"])
    assert len(calls) == real_calls == 3


def test_decoy_and_real_start_take_the_same_time_within_noise(engine: Engine) -> None:
    def timed(name: str) -> float:
        began = time.perf_counter()
        engine.session(TERMINAL).start("reset", name)
        return time.perf_counter() - began

    for _ in range(5):
        timed("alice"), timed("mallory")
    real, decoy = [], []
    for _ in range(40):  # interleaved, so machine noise hits both alike
        real.append(timed("alice"))
        decoy.append(timed("mallory"))
    ratio = statistics.median(decoy) / statistics.median(real)
    assert 0.6 < ratio < 1.6, ratio


def test_enumeration_safety_off_says_unknown(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, privacy={"enumeration_safe": False})
    with pytest.raises(NotEligible):
        engine.session(TERMINAL).start("reset", "mallory")


def counts(engine: Engine) -> tuple[int, int, str, str]:
    with engine.db.connect() as conn:
        history = conn.execute(select(func.count()).select_from(password_history)).scalar_one()
        events = conn.execute(select(func.count()).select_from(audit_events)).scalar_one()
        pw = conn.execute(select(users.c.password_hash).where(users.c.username == "alice")
                          ).scalar_one()
        status = conn.execute(select(flows.c.status).order_by(flows.c.created_at.desc())
                              .limit(1)).scalar_one()
    return history, events, pw, status


def test_a_failure_between_the_writes_leaves_nothing_half_written(engine: Engine,
                                                                  monkeypatch) -> None:  # type: ignore[no-untyped-def]
    state = email_gate(engine, engine.session(TERMINAL).start("reset", "alice"))
    before = counts(engine)
    original = audit.record

    def failing(conn, ctx, when, activity, result, **kw):  # type: ignore[no-untyped-def]
        if activity == audit.Activity.RESET:
            raise RuntimeError("disk full")  # after the hash and history were written
        return original(conn, ctx, when, activity, result, **kw)

    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError):
        engine.session(TERMINAL).set_password(state.flow_id, "Granite lantern kiosk words 4")
    assert counts(engine) == before
    monkeypatch.setattr(audit, "record", original)
    # and the flow can still finish properly
    done = engine.session(TERMINAL).set_password(state.flow_id, "Granite lantern kiosk words 4")
    assert done.result == "reset"
    history, events, pw, status = counts(engine)
    assert history == before[0] + 1 and pw != before[2] and status == "done"
    assert events > before[1]
