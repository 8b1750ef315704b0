"""`kiosk admin users ...`: add, list, show, flags, unblock; exit codes and error lines."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from kiosk.engine import registry
from kiosk.engine.admin import Admin
from kiosk.engine.schema import blocks, throttle_events, users
from tests.support.admin_cli import Kiosk

STRONG = "Granite-otter-lantern-42"


def test_add_show_masks_methods_and_never_shows_secrets(seeded: Kiosk) -> None:
    result = seeded.ok("users", "add", "Carol", "--display-name", "Carol Clark",
                       "--email", "Carol@Contoso.org", "--mobile", "+1 425 555 0143",
                       "--office", "+44 20 7946 0018", "--group", "staff",
                       "--password-stdin", input=STRONG + "\n")
    assert result.stdout.strip() == "added user carol (self-service: ready)"

    engine = seeded.engine()
    with engine.db.connect() as conn:
        user = engine.directory.find(conn, "carol")
        assert user is not None and user.password_hash is not None
        reg = registry.load(conn, user.id)
    assert reg.contacts == {"email": "Carol@contoso.org", "mobile": "+14255550143",
                            "office": "+442079460018"}  # normalised (E.164, domain lowercase)
    assert engine.directory.verify_password(user, STRONG)

    shown = seeded.ok("users", "show", "CAROL").stdout
    assert "C•••@c•••.org" in shown and "+1 •• •• ••43" in shown and "+44 •• •• ••18" in shown
    assert "staff" in shown and "sspr" in shown  # direct and nested group
    as_json = seeded.ok("users", "show", "carol", "--format", "json").stdout
    data = json.loads(as_json)
    assert data["sspr"] == "ready" and data["password_set"] is True
    for text in (shown, as_json):
        assert "argon2" not in text and "Contoso.org" not in text and "0143" not in text


def test_add_refuses_bad_input_and_changes_nothing(seeded: Kiosk) -> None:
    result = seeded.fails("users", "add", "dave", "--email", "dave@", "--mobile", "4255550100",
                          "--group", "nope")
    errors = result.stderr.splitlines()
    assert any(e.startswith("error: email 'dave@' is not valid") for e in errors)
    assert any("mobile '4255550100' is not a valid phone number" in e for e in errors)
    assert any("unknown group 'nope'" in e for e in errors)
    assert errors[-1] == "error: 3 problems, user not added"
    assert seeded.fails("users", "show", "dave").stderr == "error: unknown user 'dave'\n"

    assert seeded.fails("users", "add", "ALICE").stderr == "error: user 'alice' already exists\n"
    assert "username 'a b' is not valid" in seeded.fails("users", "add", "a b").stderr


def test_add_checks_the_initial_password_against_the_policy(seeded: Kiosk) -> None:
    result = seeded.fails("users", "add", "dave", "--given", "Dave", "--password-stdin",
                          input="dave1\n")
    assert "error: password: Use at least 12 characters; this password has 5." in result.stderr
    assert "user not added" in result.stderr
    assert seeded.fails("users", "add", "dave", "--password-stdin", input="").exit_code == 1
    seeded.fails("users", "show", "dave")


def test_list_formats(seeded: Kiosk) -> None:
    seeded.ok("users", "add", "eve", "--display-name", "=HYPERLINK(\"http://evil\")",
              "--email", "eve@contoso.org")  # not in a group: out of scope
    table = seeded.ok("users", "list").stdout.splitlines()
    assert table[0].split() == ["USERNAME", "DISPLAY", "NAME", "ADMIN", "ENABLED", "LOCKED",
                                "METHODS", "SELF-SERVICE"]
    rows = {line.split()[0]: line for line in table[2:]}
    assert rows["alice"].endswith("email,mobile  ready")
    assert rows["bob"].endswith("not registered (0 of 1)")
    assert rows["eve"].endswith("not in scope")

    parsed = list(csv.DictReader(io.StringIO(seeded.ok("users", "list", "--format",
                                                       "csv").stdout)))
    assert [r["username"] for r in parsed] == ["alice", "bob", "eve"]
    assert parsed[0]["methods"] == "email;mobile" and parsed[0]["groups"] == "staff"
    assert parsed[2]["display_name"] == "'=HYPERLINK(\"http://evil\")"  # formula defused

    data = json.loads(seeded.ok("users", "list", "--format", "json").stdout)
    assert [u["username"] for u in data] == ["alice", "bob", "eve"]
    assert data[0]["all_groups"] == ["sspr", "staff"] and data[0]["methods_needed"] == 1

    seeded.fails("users", "list", "--format", "xml", code=2)


def test_flags_disable_enable_unlock_set_admin(seeded: Kiosk) -> None:
    assert seeded.ok("users", "disable", "alice").stdout == "disabled alice\n"
    assert seeded.ok("users", "disable", "alice").stdout == "alice was already disabled\n"
    assert "disabled" in seeded.ok("users", "list").stdout.splitlines()[2]
    assert seeded.ok("users", "enable", "alice").stdout == "enabled alice\n"
    assert seeded.ok("users", "enable", "alice").stdout == "alice was already enabled\n"

    engine = seeded.engine()
    with engine.db.begin() as conn:
        conn.execute(users.update().where(users.c.username == "bob").values(locked=True))
    assert seeded.ok("users", "unlock", "bob").stdout == "unlocked bob\n"
    assert seeded.ok("users", "unlock", "bob").stdout == "bob was not locked\n"

    out = seeded.ok("users", "set-admin", "alice").stdout
    assert out == "alice is now an administrator (self-service: ready)\n"  # email + mobile = 2
    out = seeded.ok("users", "set-admin", "bob").stdout
    assert out == "bob is now an administrator (self-service: not registered (0 of 2))\n"
    out = seeded.ok("users", "set-admin", "bob", "--off").stdout
    assert out == "bob is now not an administrator (self-service: not registered (0 of 1))\n"
    with engine.db.connect() as conn:
        flags = dict(conn.execute(select(users.c.username, users.c.is_admin)).all())
    assert flags == {"alice": True, "bob": False}

    for command in ("disable", "enable", "unlock", "set-admin", "unblock", "show"):
        assert seeded.fails("users", command, "zoe").stderr == "error: unknown user 'zoe'\n"
    seeded.fails("users", "disable", code=2)  # missing argument: usage


def test_unblock_lifts_the_block_and_clears_counters(seeded: Kiosk) -> None:
    engine = seeded.engine()
    now = engine.clock.now()
    with engine.db.begin() as conn:
        conn.execute(insert(blocks).values(subject="user:alice", reason="verify_failures",
                                           support_code="ABCD-EFGH", created_at=now,
                                           until=now + timedelta(hours=24)))
        conn.execute(insert(blocks).values(subject="user:ghost", reason="failed_flows",
                                           support_code="WXYZ-2345", created_at=now,
                                           until=now + timedelta(hours=24)))
        for _ in range(5):
            conn.execute(insert(throttle_events).values(subject="user:alice", kind="verify_fail",
                                                        method="email", entry_hash="x", at=now))
    shown = seeded.ok("users", "show", "alice").stdout
    assert "verify_failures, support code ABCD-EFGH" in shown
    assert "ready, blocked" in seeded.ok("users", "list").stdout

    assert seeded.ok("users", "unblock", "Alice").stdout == "lifted the block on alice\n"
    with engine.db.connect() as conn:
        assert engine.throttle.active_block(conn, engine.clock.now(), "user:alice") is None
        left = conn.execute(select(throttle_events).where(
            throttle_events.c.subject == "user:alice")).all()
    assert left == []
    assert seeded.ok("users", "unblock", "alice").stdout == \
        "alice was not blocked (failure counters cleared)\n"
    # a name not in the directory can be blocked too (unknown names are throttled alike)
    assert seeded.ok("users", "unblock", "ghost").stdout == "lifted the block on ghost\n"
    assert seeded.fails("users", "unblock", "ghost").stderr == "error: unknown user 'ghost'\n"


def test_read_commands_refuse_a_missing_database(kiosk: Kiosk) -> None:
    result = kiosk.fails("users", "list")
    assert result.stderr.startswith(f"error: no database at {kiosk.database}")
    assert not kiosk.database.exists()  # nothing created by a read
    other = kiosk.tmp_path / "other.db"
    result = kiosk.fails("users", "list", "--database-url", f"sqlite:///{other}")
    assert f"no database at {other}" in result.stderr
    kiosk.ok("users", "add", "zed", "--database-url", f"sqlite:///{other}")
    assert "zed" in kiosk.ok("users", "list", "--database-url", f"sqlite:///{other}").stdout
    assert not kiosk.database.exists()


def test_bad_policy_file_is_one_line_per_problem(kiosk: Kiosk) -> None:
    bad = kiosk.tmp_path / "bad.toml"
    bad.write_text("[sspr]\nmethods_required = 7\n", encoding="utf-8")
    result = kiosk.fails("users", "list", "--policy", str(bad))
    assert result.stderr == \
        "error: policy: sspr.methods_required: must be between 1 and 2 (got 7)\n"


def test_unexpected_errors_are_one_line_and_debug_logs_the_traceback(
        seeded: Kiosk, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: Admin) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(Admin, "list_users", boom)
    result = seeded.fails("users", "list")
    assert result.stderr == ("error: RuntimeError: disk on fire (run `kiosk admin --debug ...` "
                             "to log the details)\n")
    result = seeded.run("--debug", "users", "list")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "error: RuntimeError: disk on fire\n" in result.stderr


def test_help_everywhere(kiosk: Kiosk) -> None:
    for args in (["--help"], ["users", "--help"], ["users", "add", "--help"],
                 ["users", "import", "--help"], ["users", "list", "--help"],
                 ["users", "show", "--help"], ["users", "set-admin", "--help"],
                 ["users", "unblock", "--help"], ["groups", "add-member", "--help"],
                 ["policy", "check", "--help"], ["audit", "export", "--help"],
                 ["report", "--help"], ["demo", "reset", "--help"]):
        result = kiosk.ok(*args)
        assert result.stdout.startswith("Usage: kiosk admin")
    assert "--database-url" in kiosk.ok("users", "list", "--help").stdout
    kiosk.fails("users", "frobnicate", code=2)
    kiosk.fails("users", "add", "--no-such-option", "x", code=2)


def test_debug_logging_ends_with_the_command(seeded: Kiosk) -> None:
    import logging

    logger = logging.getLogger("kiosk")
    handlers, level = list(logger.handlers), logger.level
    assert seeded.run("--debug", "users", "list").exit_code == 0
    assert logger.handlers == handlers and logger.level == level


def test_throttle_show_and_lift_a_slowed_terminal(kiosk) -> None:  # type: ignore[no-untyped-def]
    """One visitor trying many names at a kiosk: the operator sees the terminal's wait and
    lifts it; the lift is audited."""
    from kiosk.backend import KioskError

    engine = kiosk.engine()
    terminal = "console:lobby"
    failures = 0
    for n in range(200):
        state = engine.session(terminal).start("reset", f"stranger{n}")
        if "questions" not in {m.kind.value for m in state.methods}:
            engine.session(terminal).cancel(state.flow_id)
            continue
        state = engine.session(terminal).questions(state.flow_id)
        try:
            engine.session(terminal).answer(state.flow_id, ["wrong-a", "wrong-b", "wrong-c"])
        except KioskError as exc:
            if exc.code == "slow_down":
                break
            failures += 1
    assert failures == engine.policy.throttle.terminal_delay_after
    shown = kiosk.ok("throttle", "show").output
    assert f"{terminal}  {failures} failed verifications  waits" in shown
    assert "lifted 0 block(s) on console:lobby" in kiosk.ok("throttle", "lift", terminal).output
    assert "no terminal is slowed down or blocked" in kiosk.ok("throttle", "show").output
    assert "terminal throttle lifted" in kiosk.ok("audit", "export", "--since", "2000-01-01",
                                                  "--format", "csv").output
