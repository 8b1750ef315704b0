"""argon2 work never runs while a database connection is held.

At 50 kiosks, hashing inside a transaction held a pooled connection for every hash: the pool
ran dry and light calls (start, send, verify) queued seconds behind it. These tests record,
at every hash and verify, how many connections the engine's pool has checked out."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from kiosk.backend import (
    FlowNotFound,
    FlowState,
    KioskError,
    PasswordRejected,
    Purpose,
    Step,
    StepOutOfOrder,
)
from kiosk.engine import crypto
from kiosk.engine.engine import Engine
from tests.support.engine import TERMINAL, email_gate

NEW = "Copper-lantern-meadow-47"


@pytest.fixture
def held(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """(operation, connections checked out) at each argon2 call."""
    seen: list[tuple[str, int]] = []
    pool = engine.core.db.pool

    def watch(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            seen.append((name, pool.checkedout()))  # type: ignore[attr-defined]
            return real(*args)
        return wrapper

    for name in ("hash", "verify"):
        monkeypatch.setattr(engine.hasher, name, watch(name, getattr(engine.hasher, name)))
    return seen


def by_questions(engine: Engine) -> FlowState:
    """alice, proven by her security questions (argon2 verifies), at the new-password step."""
    kiosk = engine.session(TERMINAL)
    state = kiosk.questions(kiosk.start(Purpose.RESET, "alice").flow_id)
    assert state.questions
    answers = {"pet": "rex", "city": "springfield", "nickname": "ally"}
    state = kiosk.answer(state.flow_id, [answers[q.id] for q in state.questions])
    assert state.step == Step.NEW_PASSWORD
    return state


def test_a_reset_hashes_and_verifies_with_no_connection_held(
        engine: Engine, held: list[tuple[str, int]]) -> None:
    state = by_questions(engine)
    done = engine.session(TERMINAL).set_password(state.flow_id, NEW)
    assert done.step == Step.DONE
    assert {name for name, _ in held} == {"hash", "verify"}
    assert [entry for entry in held if entry[1]] == []


def test_a_password_from_the_history_is_refused_with_no_connection_held(
        engine: Engine, held: list[tuple[str, int]]) -> None:
    kiosk = engine.session(TERMINAL)
    state = email_gate(engine, kiosk.start(Purpose.RESET, "dave"))
    with pytest.raises(PasswordRejected) as refused:
        kiosk.set_password(state.flow_id, "Dave-demo-pass-1")
    assert "history" in [v["rule"] for v in refused.value.params["violations"]]
    assert held and [entry for entry in held if entry[1]] == []


def test_twenty_parallel_submits_set_the_password_once(engine: Engine) -> None:
    state = by_questions(engine)

    def submit(n: int) -> str:
        try:
            engine.session(TERMINAL).set_password(state.flow_id, f"{NEW}-{n}")
            return "set"
        except (FlowNotFound, StepOutOfOrder):  # the flow has ended, or is ending
            return "refused"
        except KioskError as exc:  # anything else is a defect this test reports
            return type(exc).__name__

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(submit, range(20)))
    assert results.count("set") == 1
    assert results.count("refused") == 19
    told = [m for m in engine.outbox_messages(50) if m.recipient.startswith("alice")]
    assert told and len(told) == len({m.recipient for m in told})  # once each, not 20 times


def test_argon2_runs_below_the_priority_of_the_calls_that_wait_for_it(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Light calls get a core ahead of the queue of hashes (Linux: per-thread nice values)."""
    if not hasattr(os, "getpriority"):
        pytest.skip("no per-thread priority on this system")
    niceness: list[int] = []
    real = engine.hasher._ph

    class NotingPriority:
        def hash(self, secret: str) -> str:
            niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return real.hash(secret)

    monkeypatch.setattr(engine.hasher, "_ph", NotingPriority())
    engine.hasher.hash("anything")
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert niceness == [min(mine + crypto.ARGON2_NICENESS, 19)]


def test_the_submit_of_the_checked_password_does_not_verify_the_history_again(
        engine: Engine, held: list[tuple[str, int]]) -> None:
    """The live check verifies the history (issue #13); the submit of that same password
    reuses its verdict instead of repeating the argon2 work, and any other password is
    verified afresh."""
    kiosk = engine.session(TERMINAL)
    state = by_questions(engine)
    held.clear()
    assert kiosk.check_password(state.flow_id, NEW).ok
    checked = [name for name, _ in held]
    assert checked and set(checked) == {"verify"}
    held.clear()
    kiosk.check_password(state.flow_id, NEW + "-other")  # the verdict is for NEW only
    assert [name for name, _ in held].count("verify") == len(checked)
    held.clear()
    kiosk.set_password(state.flow_id, NEW + "-other")
    assert [name for name, _ in held] == ["hash"]  # the last check's verdict was kept


def test_a_verdict_from_another_password_still_refuses_one_from_the_history(
        engine: Engine) -> None:
    """The kept verdict names the password: checking a fresh one, then submitting the
    current one, is still refused by the history rule."""
    kiosk = engine.session(TERMINAL)
    state = by_questions(engine)
    assert kiosk.check_password(state.flow_id, NEW).ok
    with pytest.raises(PasswordRejected) as refused:
        kiosk.set_password(state.flow_id, "Alice-demo-pass-1")
    assert "history" in [v["rule"] for v in refused.value.params["violations"]]
