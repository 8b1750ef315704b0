"""The demo users' shipped argon2 hashes (kiosk/engine/demo_hashes.json): each one verifies its
demo secret at the demo policy's cost, so the demo seeds without hashing at start-up."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher

from kiosk.engine.config import parse_policy
from kiosk.engine.crypto import Hasher
from kiosk.engine.demo import DEMO_POLICY, build_demo_engine, demo_secrets, shipped_hashes


def demo_hasher() -> Hasher:
    return Hasher(parse_policy({**DEMO_POLICY, "database": {"url": "sqlite://"}}).security)


def test_every_demo_secret_has_a_shipped_hash_that_verifies() -> None:
    shipped = shipped_hashes()
    secrets_ = demo_secrets()
    assert sorted(shipped) == sorted(name for name, _ in secrets_)
    hasher = demo_hasher()
    for name, secret in secrets_:
        assert hasher.current(shipped[name]), name
        assert PasswordHasher().verify(shipped[name], secret), name


def test_a_shipped_hash_is_no_other_secret() -> None:
    shipped = shipped_hashes()
    names = [name for name, _ in demo_secrets()]
    # alice's password must not open bob's account (each hash is of its own secret)
    assert not demo_hasher().verify(shipped[names[1]], demo_secrets()[0][1])
    assert len(set(shipped.values())) == len(shipped)  # its own salt each


def test_the_seed_uses_the_shipped_hashes_at_the_demo_cost(tmp_path: Path) -> None:
    engine = build_demo_engine(tmp_path)
    try:
        alice = engine.directory.find(engine.db.connect(), "alice")  # type: ignore[attr-defined]
        assert alice.password_hash == shipped_hashes()["alice/password"]
    finally:
        engine.db.dispose()


def test_another_cost_hashes_at_start_up(tmp_path: Path) -> None:
    cost = {"argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1}
    engine = build_demo_engine(tmp_path, security=cost)
    try:
        alice = engine.directory.find(engine.db.connect(), "alice")  # type: ignore[attr-defined]
        assert alice.password_hash != shipped_hashes()["alice/password"]
        assert engine.hasher.current(alice.password_hash)
        assert engine.hasher.verify(alice.password_hash, demo_secrets()[0][1])
    finally:
        engine.db.dispose()
