"""A running engine follows its edited policy file from the next visit, without dropping the
visits in progress; an invalid file keeps the policy in force and is logged once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import tomlkit

from kiosk.backend import Purpose, Step
from kiosk.engine.clock import FrozenClock
from kiosk.engine.demo import DEMO_POLICY
from kiosk.engine.engine import Engine
from kiosk.engine.policy_file import write_atomically
from tests.support.engine import CHEAP_ARGON2, TERMINAL, email_gate, make_engine


def write_policy(path: Path, engine: Engine, **sspr: object) -> None:
    data = {**DEMO_POLICY, "security": CHEAP_ARGON2,
            "database": {"url": str(engine.db.url)}}
    data["sspr"] = {**DEMO_POLICY["sspr"], **sspr}
    write_atomically(path, tomlkit.dumps(data))  # a new inode: seen whatever the clock


@pytest.fixture
def watched(tmp_path: Path) -> tuple[Engine, Path]:
    engine = make_engine(tmp_path / "db", FrozenClock())
    policy_file = tmp_path / "kiosk.toml"
    write_policy(policy_file, engine)
    engine.watch_policy(policy_file)
    return engine, policy_file


def test_a_changed_policy_applies_to_new_visits_and_keeps_the_ones_in_progress(
        watched: tuple[Engine, Path]) -> None:
    engine, policy_file = watched
    before = engine.session(TERMINAL).start(Purpose.RESET, "alice")
    assert before.gates_required == 1

    write_policy(policy_file, engine, methods_required=2)
    after = engine.session(TERMINAL).start(Purpose.RESET, "bob")
    assert engine.policy.sspr.methods_required == 2 and after.gates_required == 2

    # alice's visit started under the old policy goes on to its end
    proven = email_gate(engine, before)
    assert proven.step == Step.NEW_PASSWORD
    done = engine.session(TERMINAL).set_password(before.flow_id, "Correct horse kiosk staple 77")
    assert done.step == Step.DONE


def test_an_invalid_policy_keeps_the_one_in_force_and_is_logged_once(
        watched: tuple[Engine, Path], caplog: pytest.LogCaptureFixture) -> None:
    engine, policy_file = watched
    write_policy(policy_file, engine, methods_required=3)
    with caplog.at_level(logging.INFO, logger="kiosk.engine.reload"):
        engine.session(TERMINAL).start(Purpose.RESET, "alice")
        engine.session(TERMINAL).start(Purpose.RESET, "bob")
    assert engine.policy.sspr.methods_required == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert "sspr.methods_required: must be between 1 and 2 (got 3)" in errors[0].getMessage()
    assert "policy in force stays" in errors[0].getMessage()

    write_atomically(policy_file, "[sspr\n")  # not TOML at all
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="kiosk.engine.reload"):
        engine.session(TERMINAL).start(Purpose.RESET, "alice")
    assert "not valid TOML" in caplog.text and "Traceback" not in caplog.text

    write_policy(policy_file, engine, methods_required=2)  # fixed: taken at the next visit
    assert engine.session(TERMINAL).start(Purpose.RESET, "alice").gates_required == 2


def test_sections_that_need_a_restart_wait_for_it(watched: tuple[Engine, Path],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    engine, policy_file = watched
    url = str(engine.db.url)
    text = policy_file.read_text(encoding="utf-8").replace(url, url + ".other")
    write_atomically(policy_file, text.replace("methods_required = 1", "methods_required = 2"))
    with caplog.at_level(logging.WARNING, logger="kiosk.engine.reload"):
        engine.session(TERMINAL).start(Purpose.RESET, "alice")
    assert "database changed; restart the kiosk to apply it" in caplog.text
    assert engine.policy.database.url == url and engine.policy.sspr.methods_required == 2


def test_an_unchanged_file_is_not_read_again(watched: tuple[Engine, Path]) -> None:
    engine, _ = watched
    watch = engine.policy_watch
    assert watch is not None
    reads: list[int] = []
    load = watch.load
    watch.load = lambda: reads.append(1) or load()  # type: ignore[func-returns-value]
    engine.session(TERMINAL).start(Purpose.RESET, "alice")
    assert reads == [] and not watch.check()
