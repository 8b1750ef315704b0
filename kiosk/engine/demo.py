"""The demo / training data: exactly the six users of DESIGN.md (kiosk.demo_users), in a
throwaway database."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kiosk.demo_users import BOB_TOTP_SECRET, DEMO_USERS, DemoUser
from kiosk.engine import registry
from kiosk.engine.clock import Clock
from kiosk.engine.config import parse_policy
from kiosk.engine.directory import BuiltinDirectory
from kiosk.engine.engine import Engine
from kiosk.engine.passwords import normalize_password
from kiosk.engine.registry import StoredAnswer
from kiosk.engine.text import normalize_answer

__all__ = ["BOB_TOTP_SECRET", "DEMO_POLICY", "DEMO_USERS", "SSPR_GROUP", "DemoUser",
           "build_demo_engine", "seed"]

SSPR_GROUP = "sspr-users"
DEMO_POLICY: dict[str, Any] = {
    "demo": True,
    "organization": {
        "name": "Contoso (training)",
        "helpdesk": "IT helpdesk, room 1.12",
        "helpdesk_phone": "+1 425 555 0100",
        "helpdesk_email": "helpdesk@contoso.org",
    },
    # nested groups: sspr-users ⊃ staff ⊃ the ordinary users; frank is only a contractor
    "sspr": {"enabled": "selected", "groups": [SSPR_GROUP], "methods_required": 1},
    # OWASP's argon2id minimum (19 MiB, 2 passes): the demo starts fast and is no real secret
    "security": {"argon2_time_cost": 2, "argon2_memory_kib": 19456, "argon2_parallelism": 1},
}


def seed(engine: Engine) -> None:
    """Add the demo users to an empty database."""
    now = engine.clock.now()
    directory, hasher = engine.directory, engine.hasher
    if not isinstance(directory, BuiltinDirectory):
        raise TypeError("the demo users live in the built-in directory")
    # argon2 releases the GIL: hashing on every core halves the demo's start-up
    secrets_to_hash = [normalize_password(u.password) for u in DEMO_USERS] + [
        normalize_answer(a) for u in DEMO_USERS for a in u.answers.values()]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        hashes = iter(list(pool.map(hasher.hash, secrets_to_hash)))
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
    data = {**DEMO_POLICY, **overrides}
    data["database"] = {"url": f"sqlite:///{Path(directory) / 'demo.db'}"}
    engine = Engine(parse_policy(data), clock=clock)
    seed(engine)
    return engine
