"""`kiosk admin keys rotate` underneath: what is re-keyed, what expires, and a rotation that
stops half-way."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.backend import CodeExpired, Step
from kiosk.engine import rekey
from kiosk.engine.clock import FrozenClock
from kiosk.engine.config import PolicyError
from kiosk.engine.demo import BOB_TOTP_SECRET
from kiosk.engine.engine import Engine
from kiosk.engine.keys import KEY_ENV, NEW_KEY_ENV, key_source, parse_key
from kiosk.engine.totp import code_at
from tests.support.engine import TERMINAL, last_code, make_engine

from .test_questions_registration import at_registration


def rotate(engine: Engine) -> rekey.Rotation:
    source = key_source(engine.policy.secrets, engine.db.url)
    return rekey.rotate(engine.db, source, engine.key, engine.clock.now())


def bob_signs_in(engine: Engine, clock: FrozenClock) -> None:
    state = engine.session(TERMINAL).start("reset", "bob")
    state = engine.session(TERMINAL).verify_totp(state.flow_id, code_at(BOB_TOTP_SECRET,
                                                                        clock.now()))
    assert state.step == Step.NEW_PASSWORD
    engine.session(TERMINAL).cancel(state.flow_id)
    clock.advance(seconds=30)  # the next sign-in uses the next step's code


def test_rotation_rekeys_authenticator_secrets_and_expires_open_codes(
        tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(tmp_path, clock)
    key_file = tmp_path / "demo.key"
    kiosk = engine.session(TERMINAL)
    sent = kiosk.send_code(kiosk.start("reset", "alice").flow_id, "email", "email")
    assert sent.challenge is not None
    code = last_code(engine, "alice@contoso.org")
    flow = at_registration(engine, "erin", "Erin-demo-pass-1").flow_id
    enrol = engine.session(TERMINAL).begin_authenticator(flow)

    done = rotate(engine)
    assert (done.secrets, done.pending, done.dropped, done.codes) == (1, 1, 0, 1)
    new = parse_key(key_file.read_text(), "test")
    assert new != engine.key and (key_file.stat().st_mode & 0o777) == 0o600
    assert not (tmp_path / "demo.key.new").exists()

    restarted = Engine(engine.policy, clock=clock)
    assert restarted.key == new
    with pytest.raises(CodeExpired):  # a code sent before cannot be checked: it has expired
        restarted.session(TERMINAL).verify_code(sent.flow_id, sent.challenge.id, code)
    state = restarted.session(TERMINAL).confirm_authenticator(flow, code_at(enrol.secret,
                                                                            clock.now()))
    assert state.step == Step.REGISTER
    clock.advance(seconds=30)
    bob_signs_in(restarted, clock)
    monkeypatch.setenv(KEY_ENV, engine.key.hex())
    with pytest.raises(PolicyError, match="not the key"):  # the old key opens nothing now
        Engine(engine.policy, clock=clock)


def test_a_rotation_stopped_before_the_key_file_is_replaced_is_finished_at_start(
        tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(tmp_path, clock)

    def crash(_staged: object, _path: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(rekey, "install", crash)
    with pytest.raises(OSError):
        rotate(engine)
    staged = tmp_path / "demo.key.new"
    new = parse_key(staged.read_text(), "test")
    restarted = Engine(engine.policy, clock=clock)
    assert restarted.key == new and not staged.exists()
    assert parse_key((tmp_path / "demo.key").read_text(), "test") == new
    bob_signs_in(restarted, clock)


def test_a_failed_rekey_changes_nothing(tmp_path: Path, clock: FrozenClock,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(tmp_path, clock)
    before = (tmp_path / "demo.key").read_text()

    def broken(*_args: object) -> rekey.Rotation:
        raise RuntimeError("database gone")

    monkeypatch.setattr(rekey, "rekey", broken)
    with pytest.raises(RuntimeError):
        rotate(engine)
    assert (tmp_path / "demo.key").read_text() == before
    assert not (tmp_path / "demo.key.new").exists()
    bob_signs_in(Engine(engine.policy, clock=clock), clock)


def test_rotation_with_the_key_in_the_environment(tmp_path: Path, clock: FrozenClock,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = os.urandom(32), os.urandom(32)
    monkeypatch.setenv(KEY_ENV, old.hex())
    engine = make_engine(tmp_path, clock)
    with pytest.raises(PolicyError) as refused:
        rotate(engine)
    assert refused.value.problems[0].startswith(NEW_KEY_ENV)
    monkeypatch.setenv(NEW_KEY_ENV, new.hex())
    assert rotate(engine).secrets == 1
    with pytest.raises(PolicyError, match="not the key"):  # until every instance has the new one
        Engine(engine.policy, clock=clock)
    monkeypatch.setenv(KEY_ENV, new.hex())
    bob_signs_in(Engine(engine.policy, clock=clock), clock)
