"""Engine benchmark: identify and a full reset (email code + 3 questions) among 100,000 users.

Prints the flow's wall time as a ratio to the time of the argon2 calls it must make (measured
in the same run, by timing each call), and the p50/p99 of identification.

    python bench/engine.py [--users 100000] [--flows 20] [--identifies 500]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from kiosk.engine.config import parse_policy
from kiosk.engine.crypto import Hasher
from kiosk.engine.engine import Engine
from kiosk.engine.passwords import normalize_password
from kiosk.engine.schema import group_members, groups, methods, question_answers, users
from kiosk.engine.text import normalize_answer

ANSWERS = {"pet": "rex", "city": "springfield", "nickname": "ally"}
PASSWORD = "Bench-start-password-1"
TERMINAL = "console:bench"


class TimedHasher(Hasher):
    """Hasher that adds up the time of its argon2 calls."""

    spent = 0.0
    calls = 0

    def hash(self, secret: str) -> str:
        began = time.perf_counter()
        try:
            return super().hash(secret)
        finally:
            TimedHasher.spent += time.perf_counter() - began
            TimedHasher.calls += 1

    def verify(self, hashed: str | None, secret: str) -> bool:
        began = time.perf_counter()
        try:
            return super().verify(hashed, secret)
        finally:
            TimedHasher.spent += time.perf_counter() - began
            TimedHasher.calls += 1


def seed(engine: Engine, count: int) -> None:
    """Bulk-load `count` users, each with email, mobile and three answers. The hashes are
    computed once and shared: seeding is not what is measured."""
    now = datetime.now(UTC)
    pw_hash = engine.hasher.hash(normalize_password(PASSWORD))
    answer_hashes = {q: engine.hasher.hash(normalize_answer(a)) for q, a in ANSWERS.items()}
    chunk = 5000
    with engine.db.begin() as conn:
        gid = conn.execute(insert(groups).values(name="sspr-users")).inserted_primary_key[0]
        for start in range(0, count, chunk):
            rows = [dict(id=i + 1, username=f"user{i:06d}", display_name=f"User {i}",
                         given_name="User", family_name=f"N{i}", enabled=True, locked=False,
                         is_admin=False, password_hash=pw_hash, password_changed_at=now,
                         totp_last_step=0)
                    for i in range(start, min(start + chunk, count))]
            conn.execute(insert(users), rows)
            ids = [r["id"] for r in rows]
            conn.execute(insert(methods), [
                dict(user_id=i, kind=k, value=v, created_at=now) for i in ids
                for k, v in (("email", f"u{i}@contoso.org"), ("mobile", "+14255550142"))])
            conn.execute(insert(question_answers), [
                dict(user_id=i, question_id=q, custom_text=None, answer_hash=h)
                for i in ids for q, h in answer_hashes.items()])
            conn.execute(insert(group_members), [
                dict(group_id=gid, user_id=i, member_group_id=None) for i in ids])


def full_reset(engine: Engine, username: str, new_password: str) -> None:
    state = engine.session(TERMINAL).start("reset", username)
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    body = engine.outbox.latest(1)[0]["body"]
    found = re.search(r"\b(\d{4}) (\d{4})\b", str(body))
    assert found and state.challenge
    state = engine.session(TERMINAL).verify_code(state.flow_id, state.challenge.id,
                               found.group(1) + found.group(2))
    state = engine.session(TERMINAL).questions(state.flow_id)
    state = engine.session(TERMINAL).answer(state.flow_id, [ANSWERS[q.id] for q in state.questions])
    done = engine.session(TERMINAL).set_password(state.flow_id, new_password)
    assert done.result == "reset"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--flows", type=int, default=20)
    parser.add_argument("--identifies", type=int, default=500)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        policy = parse_policy({
            "demo": True,  # outbox delivery: the code is read back from the database
            "database": {"url": f"sqlite:///{Path(tmp) / 'bench.db'}"},
            "sspr": {"enabled": "selected", "groups": ["sspr-users"], "methods_required": 2},
        })
        engine = Engine(policy)
        engine.hasher = engine.directory.hasher = TimedHasher(policy.security)
        began = time.perf_counter()
        seed(engine, args.users)
        print(f"seeded {args.users:,} users in {time.perf_counter() - began:.1f} s "
              f"(argon2id t={policy.security.argon2_time_cost}, "
              f"m={policy.security.argon2_memory_kib} KiB, p={policy.security.argon2_parallelism})")

        rng = random.Random(7)
        identify: list[float] = []
        for _ in range(args.identifies):
            name = f"user{rng.randrange(args.users):06d}"
            t0 = time.perf_counter()
            state = engine.session(TERMINAL).start("reset", name)
            identify.append(time.perf_counter() - t0)
            engine.session(TERMINAL).cancel(state.flow_id)

        ratios: list[float] = []
        walls: list[float] = []
        for n in range(args.flows):
            name = f"user{rng.randrange(args.users):06d}"
            TimedHasher.spent, TimedHasher.calls = 0.0, 0
            t0 = time.perf_counter()
            full_reset(engine, name, f"Bench new password number {n} ok")
            wall = time.perf_counter() - t0
            walls.append(wall)
            ratios.append(wall / TimedHasher.spent)
        print(f"identify: p50 {statistics.median(identify) * 1000:.2f} ms, "
              f"p99 {percentile(identify, 99) * 1000:.2f} ms over {args.identifies} users")
        print(f"full reset (email code + 3 questions, {TimedHasher.calls} argon2 calls): "
              f"median {statistics.median(walls) * 1000:.0f} ms")
        print(f"flow time / its argon2 time: median {statistics.median(ratios):.2f}x, "
              f"max {max(ratios):.2f}x (1.00x = nothing but the argon2 work)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
