"""Secrets at rest (issue 11, item 1): a copy of the database gives away no authenticator
secret, no key and nothing that reproduces a code or a wrong entry; the key lives in a 0600
file beside the database or in KIOSK_SECRET_KEY; an older database is upgraded at start."""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from kiosk.backend import Step, WrongAnswers, WrongCode
from kiosk.engine.clock import FrozenClock
from kiosk.engine.config import PolicyError, Secrets
from kiosk.engine.crypto import keyed_hash
from kiosk.engine.db import HEAD_REVISION
from kiosk.engine.demo import BOB_TOTP_SECRET
from kiosk.engine.engine import Engine
from kiosk.engine.keys import KEY_ENV, key_source, parse_key
from kiosk.engine.totp import code_at
from tests.support.engine import TERMINAL, last_code, make_engine, wrong
from tests.support.files import mode, umask

from .old_database import make_it_old, stored_state
from .test_questions_registration import at_registration


@pytest.fixture
def umask022() -> Iterator[None]:
    with umask(0o022):
        yield


def database_file(engine: Engine) -> Path:
    name = make_url(engine.db.url).database
    assert name
    return Path(name)


def copy_database(engine: Engine, folder: Path) -> Path:
    """What a thief takes: the database file with its -wal and -shm, as they are."""
    source = database_file(engine)
    folder.mkdir()
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", folder / f"{source.name}{suffix}")
    return folder / source.name


def raw_bytes(db: Path) -> bytes:
    return b"".join(Path(f"{db}{s}").read_bytes() for s in ("", "-wal", "-shm")
                    if Path(f"{db}{s}").exists())


def totp_forms(secret: str) -> list[bytes]:
    raw = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return [secret.encode(), secret.lower().encode(), raw, raw.hex().encode(),
            raw.hex().upper().encode(), base64.b64encode(raw).rstrip(b"=")]


def key_forms(key: bytes) -> list[bytes]:
    return [key, key.hex().encode(), key.hex().upper().encode(),
            base64.b64encode(key).rstrip(b"="), base64.urlsafe_b64encode(key).rstrip(b"=")]


def candidate_keys(values: list[str]) -> list[bytes]:
    """Every value the database keeps, read as a key every way it could be one."""
    found = []
    for value in values:
        found.append(value.encode())
        for decode in (bytes.fromhex, base64.b64decode, base64.urlsafe_b64decode):
            with contextlib.suppress(ValueError):
                found.append(decode(value))
    return found


def test_a_copy_of_the_database_holds_no_authenticator_secret_and_no_key(
        tmp_path: Path, clock: FrozenClock) -> None:
    engine = make_engine(tmp_path / "kiosk", clock)
    # alice: near-miss answers, then a wrong emailed code
    state = engine.session(TERMINAL).questions(engine.session(TERMINAL).start("reset",
                                                                              "alice").flow_id)
    near = {"pet": "rex", "city": "springfield", "nickname": "allly"}
    with pytest.raises(WrongAnswers):
        engine.session(TERMINAL).answer(state.flow_id, [near[q.id] for q in state.questions])
    state = engine.session(TERMINAL).send_code(state.flow_id, "email", "email")
    assert state.challenge is not None
    challenge, code = state.challenge.id, last_code(engine, "alice@contoso.org")
    with pytest.raises(WrongCode):
        engine.session(TERMINAL).verify_code(state.flow_id, challenge, wrong(code))
    # erin enrols an authenticator app: copied while it is pending and once it is registered
    flow = at_registration(engine, "erin", "Erin-demo-pass-1").flow_id
    enrol = engine.session(TERMINAL).begin_authenticator(flow)
    pending = copy_database(engine, tmp_path / "pending")
    state = engine.session(TERMINAL).confirm_authenticator(flow, code_at(enrol.secret, clock.now()))
    assert state.step == Step.REGISTER
    registered = copy_database(engine, tmp_path / "registered")

    for copy in (pending, registered):
        data = raw_bytes(copy)
        for secret in (enrol.secret, BOB_TOTP_SECRET):
            leaks = [form for form in totp_forms(secret) if form in data]
            assert not leaks, f"{secret} readable in {copy.parent.name}"
        assert not [form for form in key_forms(engine.key) if form in data]

    with sqlite3.connect(registered) as conn:
        values = [str(v) for (v,) in conn.execute("SELECT value FROM settings")]
        code_hashes = {h for (h,) in conn.execute("SELECT code_hash FROM challenges")}
        entries = {h for (h,) in conn.execute(
            "SELECT entry_hash FROM throttle_events WHERE entry_hash != ''")}
    code_hash = keyed_hash(engine.key, "code", challenge, code)
    entry = keyed_hash(engine.key, "entry", "email", f"{challenge}:{wrong(code)}")
    assert code_hash in code_hashes and entry in entries  # the probes below are meaningful
    for candidate in candidate_keys(values):
        assert keyed_hash(candidate, "code", challenge, code) != code_hash
        assert keyed_hash(candidate, "entry", "email", f"{challenge}:{wrong(code)}") != entry


@pytest.mark.usefixtures("umask022")
def test_the_key_file_and_the_database_are_private_whatever_the_umask(tmp_path: Path) -> None:
    engine = make_engine(tmp_path)
    key_file = tmp_path / "demo.key"
    assert mode(key_file) == 0o600
    assert parse_key(key_file.read_text(), "test") == engine.key
    for name in ("demo.db", "demo.db-wal", "demo.db-shm"):
        assert mode(tmp_path / name) == 0o600, name
    with sqlite3.connect(tmp_path / "demo.db") as conn:
        assert [k for (k,) in conn.execute("SELECT key FROM settings")] == ["key_check"]
    assert Engine(engine.policy).key == engine.key  # a restart reads the same file


def test_an_older_database_others_could_read_is_closed_to_them(tmp_path: Path) -> None:
    engine = make_engine(tmp_path)
    engine.db.dispose()
    os.chmod(tmp_path / "demo.db", 0o644)
    Engine(engine.policy)
    assert mode(tmp_path / "demo.db") == 0o640


def test_a_configured_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "kiosk.key"
    key_file.parent.mkdir()
    engine = make_engine(tmp_path / "db", secrets={"key_file": str(key_file)})
    assert parse_key(key_file.read_text(), "test") == engine.key and mode(key_file) == 0o600
    assert not (tmp_path / "db" / "demo.key").exists()


def test_the_key_may_come_from_the_environment(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    key = os.urandom(32)
    monkeypatch.setenv(KEY_ENV, key.hex())
    engine = make_engine(tmp_path)
    assert engine.key == key and not (tmp_path / "demo.key").exists()
    monkeypatch.setenv(KEY_ENV, base64.b64encode(key).decode())
    assert Engine(engine.policy).key == key
    monkeypatch.setenv(KEY_ENV, base64.urlsafe_b64encode(key).decode().rstrip("="))
    assert Engine(engine.policy).key == key
    monkeypatch.setenv(KEY_ENV, "not-a-key-but-a-secret")
    with pytest.raises(PolicyError) as refused:
        Engine(engine.policy)
    assert refused.value.problems[0].startswith(KEY_ENV)
    assert "not-a-key-but-a-secret" not in str(refused.value)


def test_a_missing_or_other_key_is_refused_not_replaced(tmp_path: Path) -> None:
    engine = make_engine(tmp_path)
    key_file = tmp_path / "demo.key"
    kept = key_file.read_bytes()
    key_file.unlink()
    with pytest.raises(PolicyError, match="no key"):
        Engine(engine.policy)
    assert not key_file.exists()  # no new key that would open nothing
    key_file.write_text(os.urandom(32).hex())
    key_file.chmod(0o600)
    with pytest.raises(PolicyError, match="not the key"):
        Engine(engine.policy)
    key_file.write_bytes(kept)
    key_file.chmod(0o640)
    with pytest.raises(PolicyError, match="chmod 600") as refused:
        Engine(engine.policy)
    assert refused.value.problems[0].startswith("secrets.key_file")
    key_file.chmod(0o600)
    assert Engine(engine.policy).key == engine.key


def test_postgresql_needs_a_key_file_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://kiosk@db.example.org/kiosk"
    with pytest.raises(PolicyError) as refused:
        key_source(Secrets(), url)
    assert refused.value.problems[0].startswith("secrets.key_file:")
    assert key_source(Secrets(key_file="/etc/kiosk/kiosk.key"), url).kind == "file"
    monkeypatch.setenv(KEY_ENV, os.urandom(32).hex())
    assert key_source(Secrets(), url).kind == "env"


def test_an_older_sqlite_database_is_upgraded_at_start(tmp_path: Path,
                                                       clock: FrozenClock) -> None:
    engine = make_engine(tmp_path, clock)
    flow = at_registration(engine, "erin", "Erin-demo-pass-1").flow_id
    enrol = engine.session(TERMINAL).begin_authenticator(flow)
    legacy = make_it_old(engine.db, flow, enrol.secret)
    engine.db.dispose()
    (tmp_path / "demo.key").unlink()

    upgraded = Engine(engine.policy, clock=clock)
    assert upgraded.key == legacy  # moved, not replaced: codes already sent stay valid
    assert parse_key((tmp_path / "demo.key").read_text(), "test") == legacy
    assert mode(tmp_path / "demo.key") == 0o600
    found, bob, revision = stored_state(upgraded.db)
    assert "server_key" not in found and bob.startswith("v1:") and revision == HEAD_REVISION
    data = raw_bytes(tmp_path / "demo.db")  # vacuumed: no copy left in free pages or the WAL
    assert BOB_TOTP_SECRET.encode() not in data and enrol.secret.encode() not in data
    assert legacy.hex().encode() not in data

    again = Engine(engine.policy, clock=clock)  # idempotent
    assert again.key == legacy and stored_state(again.db) == (found, bob, revision)
    state = again.session(TERMINAL).start("reset", "bob")
    state = again.session(TERMINAL).verify_totp(state.flow_id, code_at(BOB_TOTP_SECRET,
                                                                       clock.now()))
    assert state.step == Step.NEW_PASSWORD
    state = again.session(TERMINAL).confirm_authenticator(flow, code_at(enrol.secret, clock.now()))
    assert state.step == Step.REGISTER
