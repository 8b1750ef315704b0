"""`kiosk admin demo reset` and `kiosk admin terminals`."""

from __future__ import annotations

import json

from kiosk.engine.demo import DEMO_USERS
from tests.support.admin_cli import Kiosk


def test_demo_reset_builds_a_fresh_demo_database(kiosk: Kiosk) -> None:
    directory = kiosk.tmp_path / "demo"
    result = kiosk.ok("demo", "reset", "--directory", str(directory))
    policy = directory / "kiosk.toml"
    assert result.stdout.splitlines()[:2] == [f"demo database: {directory / 'demo.db'}",
                                              f"policy file:   {policy}"]
    assert kiosk.ok("policy", "check", str(policy)).stdout.startswith(f"{policy}: valid")

    listed = kiosk.run("users", "list", "--format", "json", env={"KIOSK_POLICY": str(policy)})
    assert listed.exit_code == 0, listed.output
    people = {u["username"]: u for u in json.loads(listed.stdout)}
    assert sorted(people) == sorted(u.username for u in DEMO_USERS)
    assert people["frank"]["sspr"] == "not in scope" and people["erin"]["sspr"] == \
        "not registered" and people["dave"]["locked"] is True

    # a change, then a reset: the change is gone
    changed = kiosk.run("users", "unlock", "dave", env={"KIOSK_POLICY": str(policy)})
    assert changed.stdout == "unlocked dave\n"
    kiosk.ok("demo", "reset", "--directory", str(directory))
    again = kiosk.run("users", "show", "dave", "--format", "json",
                      env={"KIOSK_POLICY": str(policy)})
    assert json.loads(again.stdout)["locked"] is True


def test_demo_reset_never_replaces_a_real_policy_file(kiosk: Kiosk) -> None:
    real = kiosk.policy_file.read_text(encoding="utf-8")
    result = kiosk.fails("demo", "reset", "--directory", str(kiosk.tmp_path))
    assert result.stderr == (f"error: {kiosk.policy_file} exists and is not a demo policy: "
                             "refusing to replace it (choose another --directory)\n")
    assert kiosk.policy_file.read_text(encoding="utf-8") == real
    assert not (kiosk.tmp_path / "demo.db").exists()
    a_file = kiosk.tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    kiosk.fails("demo", "reset", "--directory", str(a_file), code=2)  # click: not a directory


def test_terminals_is_an_admin_command(kiosk: Kiosk) -> None:
    assert "terminals  API keys of the kiosk terminals" in kiosk.ok("--help").stdout
    assert "No such command 'terminal'" in kiosk.fails("terminal", "list", code=2).stderr


def test_the_first_terminal_of_a_new_install_creates_the_database(kiosk: Kiosk) -> None:
    """issue 13: `terminals add` on a new database said only "no database at …"."""
    assert not kiosk.database.exists()
    result = kiosk.fails("terminals", "list")
    assert f"no database at {kiosk.database}" in result.stderr
    assert "`kiosk admin terminals add NAME` or `kiosk admin users import FILE` create one" \
        in result.stderr
    key_file = kiosk.tmp_path / "lobby.key"
    result = kiosk.ok("terminals", "add", "lobby-1", "--key-file", str(key_file))
    assert f"created the database {kiosk.database}" in result.stderr
    assert "terminal 'lobby-1' created" in result.stderr
    assert kiosk.database.exists() and key_file.read_text().strip()
    assert "lobby-1" in kiosk.ok("terminals", "list").stdout
    assert "created the database" not in kiosk.ok("terminals", "add", "lobby-2").stderr
    missing_dir = kiosk.tmp_path / "nowhere" / "k.db"
    result = kiosk.run("terminals", "add", "x", "--database-url", f"sqlite:///{missing_dir}")
    assert result.exit_code == 1 and "no directory" in result.stderr
