"""The demo / training data: exactly the six users of DESIGN.md (kiosk.demo_users), in a
throwaway database."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kiosk.demo_users import BOB_TOTP_SECRET, DEMO_USERS, DemoUser
from kiosk.engine import registry
from kiosk.engine.clock import Clock
from kiosk.engine.config import parse_policy
from kiosk.engine.crypto import Hasher
from kiosk.engine.demo_policy import DEMO_POLICY, SSPR_GROUP, demo_policy
from kiosk.engine.directory import BuiltinDirectory
from kiosk.engine.engine import Engine
from kiosk.engine.passwords import normalize_password
from kiosk.engine.registry import StoredAnswer
from kiosk.engine.text import normalize_answer

__all__ = ["BOB_TOTP_SECRET", "DEMO_POLICY", "DEMO_USERS", "SSPR_GROUP", "DemoUser",
           "build_demo_engine", "seed"]

# the demo users' argon2 hashes at the demo policy's cost, made once and shipped: hashing nine
# secrets was most of the demo's start-up. `python -m kiosk.engine.demo` makes them again (after
# a change of kiosk.demo_users or of the demo cost); a test checks that each one verifies.
DEMO_HASHES_FILE = Path(__file__).with_name("demo_hashes.json")


def demo_secrets() -> list[tuple[str, str]]:
    """(name, normalised secret) of every demo password, then every demo answer, in seed order."""
    return [(f"{u.username}/password", normalize_password(u.password)) for u in DEMO_USERS] + [
        (f"{u.username}/answer/{qid}", normalize_answer(a))
        for u in DEMO_USERS for qid, a in u.answers.items()]


def shipped_hashes() -> dict[str, str]:
    try:
        return json.loads(DEMO_HASHES_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_demo_hashes() -> None:
    hasher = Hasher(parse_policy({**DEMO_POLICY, "database": {"url": "sqlite://"}}).security)
    hashes = {name: hasher.hash(secret) for name, secret in demo_secrets()}
    DEMO_HASHES_FILE.write_text(json.dumps(hashes, indent=1) + "\n", encoding="utf-8")


def _hashes(engine: Engine) -> list[str]:
    """The demo secrets' hashes: the shipped ones where they are at this engine's cost (a test
    checks they verify), the others made now."""
    hasher, shipped = engine.hasher, shipped_hashes()
    secrets_ = demo_secrets()
    missing = [secret for name, secret in secrets_
               if not hasher.current(shipped.get(name))]
    # argon2 releases the GIL: hashing on every core halves the time
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        made = iter(list(pool.map(hasher.hash, missing)))
    return [shipped[name] if hasher.current(shipped.get(name)) else next(made)
            for name, _ in secrets_]


def seed(engine: Engine) -> None:
    """Add the demo users to an empty database."""
    now = engine.clock.now()
    directory = engine.directory
    if not isinstance(directory, BuiltinDirectory):
        raise TypeError("the demo users live in the built-in directory")
    hashes = iter(_hashes(engine))
    password_hashes = [next(hashes) for _ in DEMO_USERS]
    with engine.db.begin() as conn:
        directory.add_member(conn, SSPR_GROUP, member_group="staff")
        for user, password_hash in zip(DEMO_USERS, password_hashes, strict=True):
            given, _, family = user.display_name.partition(" ")
            user_id = directory.add_user(
                conn, user.username, display_name=user.display_name, given_name=given,
                family_name=family, is_admin=user.is_admin, locked=user.locked,
                password_hash=password_hash, now=now)
            directory.add_member(conn, "staff" if user.in_scope else "contractors",
                                 user_id=user_id)
            for kind, value in user.contacts.items():
                registry.set_method(conn, user_id, kind, value, now)
            if user.totp_secret:
                registry.set_authenticator(conn, engine.key, user_id, user.totp_secret, now)
            if user.answers:
                registry.set_answers(conn, user_id, [
                    StoredAnswer(qid, None, next(hashes)) for qid in user.answers])
            if user.contacts or user.totp_secret:
                registry.mark_registered(conn, user_id, now)


def shared_demo_engine(path: Path, *, clock: Clock | None = None, **overrides: Any) -> Engine:
    """The demo on a database file kept at `path` (seeded when new), which `kiosk demo --db`
    and `kiosk console --db` open side by side; its key file sits beside it."""
    path = Path(path)
    new = not path.exists()
    data = {**DEMO_POLICY, **overrides, "database": {"url": f"sqlite:///{path}"}}
    engine = Engine(parse_policy(data), clock=clock)
    if new:
        seed(engine)
    return engine


def build_demo_engine(directory: Path, *, clock: Clock | None = None,
                      **overrides: Any) -> Engine:
    """A fresh demo database under `directory` (nothing is written elsewhere)."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    engine = Engine(demo_policy(directory, **overrides), clock=clock)
    seed(engine)
    return engine


if __name__ == "__main__":
    write_demo_hashes()
