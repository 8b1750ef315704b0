"""Secrets at rest on PostgreSQL: an older database (key in `settings`, plaintext authenticator
secrets) is upgraded at start, once, and instances with another key refuse to start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from kiosk.backend import Step
from kiosk.engine.clock import FrozenClock
from kiosk.engine.config import Policy, PolicyError, parse_policy
from kiosk.engine.db import HEAD_REVISION
from kiosk.engine.demo import BOB_TOTP_SECRET, DEMO_POLICY, seed
from kiosk.engine.engine import Engine
from kiosk.engine.keys import parse_key
from kiosk.engine.totp import code_at
from tests.engine.old_database import make_it_old, stored_state
from tests.engine.test_questions_registration import at_registration
from tests.support.engine import CHEAP_ARGON2, TERMINAL

from .test_postgres import fresh_schema, pg_server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.postgres]


def policy_on(url: str, key_file: Path) -> Policy:
    return parse_policy({**DEMO_POLICY, "security": CHEAP_ARGON2, "database": {"url": url},
                         "secrets": {"key_file": str(key_file)}})


def test_an_older_postgresql_database_is_upgraded_at_start(fresh_schema: Any,  # noqa: F811
                                                           tmp_path: Path) -> None:
    key_file = tmp_path / "kiosk.key"
    policy, clock = policy_on(fresh_schema(), key_file), FrozenClock()
    engine = Engine(policy, clock=clock)
    seed(engine)
    flow = at_registration(engine, "erin", "Erin-demo-pass-1").flow_id
    enrol = engine.session(TERMINAL).begin_authenticator(flow)
    legacy = make_it_old(engine.db, flow, enrol.secret)
    engine.db.dispose()
    key_file.unlink()

    upgraded = Engine(policy, clock=clock)
    assert upgraded.key == legacy and parse_key(key_file.read_text(), "test") == legacy
    found, bob, revision = stored_state(upgraded.db)
    assert set(found) == {"key_check"} and bob.startswith("v1:") and revision == HEAD_REVISION
    again = Engine(policy, clock=clock)  # idempotent
    assert again.key == legacy and stored_state(again.db) == (found, bob, revision)
    state = again.session(TERMINAL).start("reset", "bob")
    state = again.session(TERMINAL).verify_totp(state.flow_id, code_at(BOB_TOTP_SECRET,
                                                                       clock.now()))
    assert state.step == Step.NEW_PASSWORD
    state = again.session(TERMINAL).confirm_authenticator(flow, code_at(enrol.secret, clock.now()))
    assert state.step == Step.REGISTER
    for db in (engine.db, upgraded.db, again.db):
        db.dispose()


def test_an_instance_with_another_key_refuses_to_start(fresh_schema: Any,  # noqa: F811
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    url = fresh_schema()
    first = Engine(policy_on(url, tmp_path / "a.key"))
    with pytest.raises(PolicyError, match="no key"):  # a second machine makes none of its own
        Engine(policy_on(url, tmp_path / "b.key"))
    assert not (tmp_path / "b.key").exists()
    (tmp_path / "b.key").write_text(os.urandom(32).hex())
    (tmp_path / "b.key").chmod(0o600)
    with pytest.raises(PolicyError, match="not the key"):
        Engine(policy_on(url, tmp_path / "b.key"))
    monkeypatch.setenv("KIOSK_SECRET_KEY", first.key.hex())
    assert Engine(policy_on(url, tmp_path / "unused.key")).key == first.key
    monkeypatch.setenv("KIOSK_SECRET_KEY", os.urandom(32).hex())
    with pytest.raises(PolicyError, match="not the key"):
        Engine(policy_on(url, tmp_path / "unused.key"))
    first.db.dispose()
