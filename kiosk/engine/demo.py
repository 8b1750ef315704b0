"""The demo / training data: exactly the six users of DESIGN.md, in a throwaway database.

Trainers and docs rely on these names and secrets; change them only together with DESIGN.md.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.engine import registry
from kiosk.engine.clock import Clock
from kiosk.engine.config import parse_policy
from kiosk.engine.engine import Engine
from kiosk.engine.passwords import normalize_password
from kiosk.engine.registry import StoredAnswer
from kiosk.engine.text import normalize_answer

SSPR_GROUP = "sspr-users"
BOB_TOTP_SECRET = "JBSWY3DPEHPK3PXP"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    shows: str
    password: str
    contacts: dict[str, str] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    totp_secret: str | None = None
    is_admin: bool = False
    locked: bool = False
    in_scope: bool = True


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("alice", "Alice Archer", "ordinary user: email, mobile, 3 questions",
             "Alice-demo-pass-1",
             contacts={"email": "alice@contoso.org", "mobile": "+14255550142"},
             answers={"pet": "rex", "city": "springfield", "nickname": "ally"}),
    DemoUser("bob", "Bob Baker", "authenticator app registered (required) + email",
             "Bob-demo-pass-1", contacts={"email": "bob@contoso.org"},
             totp_secret=BOB_TOTP_SECRET),
    DemoUser("carol", "Carol Clark", "administrator: two methods (email + mobile)",
             "Carol-demo-pass-1",
             contacts={"email": "carol@contoso.org", "mobile": "+14255550143"}, is_admin=True),
    DemoUser("dave", "Dave Dunn", "account locked: unlock flow", "Dave-demo-pass-1",
             contacts={"email": "dave@contoso.org"}, locked=True),
    DemoUser("erin", "Erin Evans",
             "nothing registered: no code arrives; registers with her password",
             "Erin-demo-pass-1"),
    DemoUser("frank", "Frank Fox", "not in the SSPR group: no code arrives (a decoy)",
             "Frank-demo-pass-1",
             contacts={"email": "frank@contoso.org", "mobile": "+14255550144"},
             in_scope=False),
)

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
    # argon2 releases the GIL: hashing on every core halves the demo's start-up
    secrets_to_hash = [normalize_password(u.password) for u in DEMO_USERS] + [
        normalize_answer(a) for u in DEMO_USERS for a in u.answers.values()]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        hashes = iter(list(pool.map(hasher.hash, secrets_to_hash)))
    password_hashes = [next(hashes) for _ in DEMO_USERS]
    with engine.db.begin() as conn:
        directory.add_member(conn, SSPR_GROUP, member_group="staff")  # type: ignore[attr-defined]
        for user, password_hash in zip(DEMO_USERS, password_hashes, strict=True):
            given, _, family = user.display_name.partition(" ")
            user_id = directory.add_user(  # type: ignore[attr-defined]
                conn, user.username, display_name=user.display_name, given_name=given,
                family_name=family, is_admin=user.is_admin, locked=user.locked,
                password_hash=password_hash, now=now)
            directory.add_member(conn, "staff" if user.in_scope else "contractors",  # type: ignore[attr-defined]
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
