"""Attacks with parallel requests: counting and deciding must be one atomic step.

Each verification reserves its attempt before the expensive check, so whatever the concurrency
(threads of one instance on SQLite, two instances on one PostgreSQL database) no more than the
limit (5) of wrong proofs are ever evaluated, the right proof that follows is refused, and no
step after a block succeeds. The checks are slowed down (a sleep in the hasher / code check),
so the requests really overlap, as they do with argon2 at its real cost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from kiosk.backend import Blocked, FlowNotFound, KioskError
from kiosk.engine.clock import FrozenClock
from kiosk.engine.config import parse_policy
from kiosk.engine.demo import DEMO_POLICY, seed
from kiosk.engine.engine import Engine
from kiosk.engine.methods import codes
from kiosk.engine.schema import audit_events, blocks, users
from tests.support.engine import CHEAP_ARGON2, TERMINAL, last_code, make_engine, wrong
from tests.support.postgres import fresh_schemas, require_server

ALICE = {"pet": "rex", "city": "springfield", "nickname": "ally"}
NEW = "Harbour kiosk lantern 2041"


class SlowChecks:
    """Counts the argon2 checks and stretches each, so parallel requests overlap."""

    def __init__(self, engine: Engine, delay: float = 0.03) -> None:
        self.calls = 0
        self.lock = threading.Lock()
        real = engine.hasher.verify

        def verify(hashed: str | None, secret: str) -> bool:
            with self.lock:
                self.calls += 1
            time.sleep(delay)
            return real(hashed, secret)

        engine.hasher.verify = verify  # type: ignore[method-assign]


def evaluated(engine: Engine, detail: str) -> int:
    """Wrong proofs that were checked and recorded (one audit event each)."""
    with engine.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_events).where(
            audit_events.c.detail == detail)).scalar_one())


def block_count(engine: Engine) -> int:
    with engine.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(blocks)).scalar_one())


def password_hash(engine: Engine, name: str) -> str:
    with engine.db.connect() as conn:
        return str(conn.execute(select(users.c.password_hash).where(
            users.c.username == name)).scalar_one())


def in_parallel(n: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return work(i)
        except KioskError as exc:
            return exc.code

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def wrong_answers(i: int) -> list[str]:
    return [f"wrong{i}a", f"wrong{i}b", f"wrong{i}c"]


def right_answers(engine: Engine, flow_id: str, terminal: str = TERMINAL) -> list[str]:
    state = engine.session(terminal).questions(flow_id)
    return [ALICE[q.id] for q in state.questions]


def attack_questions(engines: list[Engine], n: int) -> str:
    """n different wrong answer sets for alice at once (spread over the engines), on one
    flow per engine; returns one of the flows."""
    flows = [e.session(TERMINAL).questions(e.session(TERMINAL).start("reset",
                                                                     "alice").flow_id).flow_id
             for e in engines]

    def one(i: int) -> Any:
        engine = engines[i % len(engines)]
        return engine.session(TERMINAL).answer(flows[i % len(engines)], wrong_answers(i))

    in_parallel(n, one)
    return flows[0]


@pytest.mark.parametrize("n", [20, 40])
def test_parallel_wrong_answers_on_sqlite_evaluate_at_most_five(tmp_path: Path, n: int) -> None:
    engine = make_engine(tmp_path)
    SlowChecks(engine)
    before = password_hash(engine, "alice")
    flow = attack_questions([engine], n)
    assert evaluated(engine, "wrong answers") <= 5
    assert block_count(engine) == 1  # one block per limit reached, not one per request
    # the right answers that follow are refused, on the attacked flow and on a new one
    with pytest.raises((Blocked, FlowNotFound)):
        engine.session(TERMINAL).answer(flow, [ALICE["pet"], ALICE["city"], ALICE["nickname"]])
    with pytest.raises(Blocked):
        engine.session("console:other").start("reset", "alice")
    assert password_hash(engine, "alice") == before


def test_parallel_wrong_codes_evaluate_at_most_five(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(tmp_path)
    state = engine.session(TERMINAL).start("reset", "alice")
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert state.challenge is not None
    challenge, code = state.challenge.id, last_code(engine)
    real = codes.is_right

    def slow(key: bytes, challenge: Any, digits: str) -> bool:
        time.sleep(0.03)
        return real(key, challenge, digits)

    monkeypatch.setattr(codes, "is_right", slow)
    guesses = [f"{(int(code) + i) % 10**8:08d}" for i in range(1, 21)]
    in_parallel(20, lambda i: engine.session(TERMINAL).verify_code(state.flow_id, challenge,
                                                                   guesses[i]))
    assert evaluated(engine, "wrong code") <= 5
    with pytest.raises((Blocked, FlowNotFound)):
        engine.session(TERMINAL).verify_code(state.flow_id, challenge, code)


def test_a_block_set_elsewhere_stops_a_proven_flow_before_the_password(tmp_path: Path) -> None:
    """set_password and unlock re-check blocks: proof on one terminal, a block from another."""
    engine = make_engine(tmp_path)
    proven = engine.session(TERMINAL).start("reset", "alice")
    proven = engine.session(TERMINAL).answer(proven.flow_id, right_answers(engine, proven.flow_id))
    assert proven.step.value == "new_password"
    other = "console:other"
    state = engine.session(other).start("reset", "alice")
    state = engine.session(other).send_code(state.flow_id, "email", "email")
    assert state.challenge is not None
    code = last_code(engine)
    for i in range(5):
        with pytest.raises(KioskError):
            engine.session(other).verify_code(state.flow_id, state.challenge.id,
                               wrong(f"{(int(code) + i) % 10**8:08d}"))
    before = password_hash(engine, "alice")
    with pytest.raises(Blocked):
        engine.session(TERMINAL).set_password(proven.flow_id, NEW)
    with pytest.raises(Blocked):
        engine.session(TERMINAL).check_password(proven.flow_id, NEW)
    assert password_hash(engine, "alice") == before


def test_dave_cannot_unlock_while_blocked(tmp_path: Path) -> None:
    engine = make_engine(tmp_path)
    state = engine.session(TERMINAL).start("unlock", "dave")
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert state.challenge is not None
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                                                 last_code(engine))
    assert state.step.value == "unlock"
    with engine.db.begin() as conn:  # a block written meanwhile (by another terminal)
        engine.throttle._block(conn, engine.clock.now(), state_subject(engine, state.flow_id),
                               "verify_failures", "TEST-0000", timedelta(hours=1))
    with pytest.raises(Blocked):
        engine.session(TERMINAL).unlock(state.flow_id)


def state_subject(engine: Engine, flow_id: str) -> str:
    with engine.db.connect() as conn:
        return str(conn.execute(text("SELECT subject FROM flows WHERE id = :i"),
                                {"i": flow_id}).scalar_one())


def test_name_variants_share_one_account_counter(tmp_path: Path) -> None:
    """'Alice', ' alice ' and 'ALICE' are one account: five failures across them block it."""
    engine = make_engine(tmp_path)
    for i, name in enumerate(["Alice", " alice ", "ALICE", "alice", "aLiCe"]):
        state = engine.session(TERMINAL).start("reset", name)
        state = engine.session(TERMINAL).questions(state.flow_id)
        with pytest.raises(KioskError):
            engine.session(TERMINAL).answer(state.flow_id, wrong_answers(i))
    with pytest.raises(Blocked):
        engine.session("console:other").start("reset", "alice")


# ---------------------------------------------------------------- two instances, PostgreSQL

@pytest.fixture
def pg_schema() -> Iterator[str]:
    with fresh_schemas(require_server()) as make:
        yield make()  # type: ignore[operator]


@pytest.mark.postgres
@pytest.mark.parametrize("n", [20, 40])
def test_two_instances_on_postgresql_evaluate_at_most_five(pg_schema: str, n: int,
                                                           tmp_path: Path) -> None:
    policy = parse_policy({**DEMO_POLICY, "security": CHEAP_ARGON2,
                           "database": {"url": pg_schema},
                           "secrets": {"key_file": str(tmp_path / "kiosk.key")}})
    clock = FrozenClock()
    first = Engine(policy, clock=clock)
    seed(first)
    second = Engine(policy, clock=clock)  # its own pool: another instance on the same database
    try:
        for engine in (first, second):
            SlowChecks(engine)
        before = password_hash(first, "alice")
        flow = attack_questions([first, second], n)
        assert evaluated(first, "wrong answers") <= 5
        assert block_count(first) == 1
        with pytest.raises((Blocked, FlowNotFound)):
            first.session(TERMINAL).answer(flow, [ALICE["pet"], ALICE["city"], ALICE["nickname"]])
        with pytest.raises(Blocked):
            second.session("console:other").start("reset", "alice")
        assert password_hash(second, "alice") == before
    finally:
        first.db.dispose()
        second.db.dispose()
