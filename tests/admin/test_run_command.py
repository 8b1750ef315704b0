"""`kiosk run` before the app starts (issue 13): it honours KIOSK_POLICY like `kiosk admin`,
and never makes up a database outside the demo (an implicit ./kiosk.db had no users)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import kiosk.ui_commands
from kiosk.cli import main
from tests.support.admin_cli import POLICY, Kiosk


def run(cwd: Path, *args: str, policy: Path | None = None) -> Result:
    runner = CliRunner(env={"KIOSK_POLICY": str(policy) if policy else None,
                            "KIOSK_DATABASE_URL": None})
    here = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, ["run", "--log", str(cwd / "kiosk.log"), *args],
                             prog_name="kiosk")
    finally:
        os.chdir(here)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Stand in for the app: record the backend `kiosk run` would show."""
    seen: list[Any] = []

    def fake_run_kiosk(make_backend: Any, **_kwargs: Any) -> int:
        seen.append(make_backend())
        return 0

    monkeypatch.setattr(kiosk.ui_commands, "run_kiosk", fake_run_kiosk)
    return seen


def test_no_policy_no_database_refuses_and_creates_nothing(tmp_path: Path,
                                                           started: list[Any]) -> None:
    result = run(tmp_path)
    assert result.exit_code == 1, result.output
    assert "database.url: no database is configured (no policy file (--policy FILE, env " \
           "KIOSK_POLICY or ./kiosk.toml))" in result.output
    assert "kiosk admin users import" in result.output
    assert not (tmp_path / "kiosk.db").exists() and started == []


def test_a_policy_without_a_database_section_names_the_key(tmp_path: Path,
                                                           started: list[Any]) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('[organization]\nname = "X"\n', encoding="utf-8")
    result = run(tmp_path, policy=policy)
    assert result.exit_code == 1
    assert f"database.url: no database is configured (the policy file {policy})" in result.output
    assert not (tmp_path / "kiosk.db").exists()


def test_kiosk_policy_is_honoured_and_a_missing_database_refused(kiosk: Kiosk,
                                                                 started: list[Any]) -> None:
    result = run(kiosk.tmp_path, policy=kiosk.policy_file)
    assert result.exit_code == 1
    assert f"database.url: no database at {kiosk.database}; create it" in result.output
    assert not kiosk.database.exists()
    kiosk.ok("groups", "add", "sspr")  # creates the database
    result = run(kiosk.tmp_path, policy=kiosk.policy_file)
    assert result.exit_code == 0, result.output
    assert len(started) == 1
    assert started[0].engine.policy.organization.name == "Test Org"  # from KIOSK_POLICY


def test_kiosk_toml_in_the_working_directory_is_read(kiosk: Kiosk, started: list[Any]) -> None:
    (kiosk.tmp_path / "kiosk.toml").write_text(POLICY.format(db=kiosk.database) +
                                               "[sspr.colour]\n", encoding="utf-8")
    result = run(kiosk.tmp_path)
    assert result.exit_code == 1
    assert "kiosk.toml: sspr.colour: unknown key" in result.output


def test_a_demo_policy_needs_no_database_of_its_own(tmp_path: Path, started: list[Any]) -> None:
    policy = tmp_path / "demo.toml"
    policy.write_text(f'demo = true\n[database]\nurl = "sqlite:///{tmp_path}/d.db"\n',
                      encoding="utf-8")
    assert run(tmp_path, policy=policy).exit_code == 0


def test_a_running_kiosk_takes_an_edited_policy_at_the_next_visit(kiosk: Kiosk,
                                                                   started: list[Any]) -> None:
    from kiosk.engine.policy_file import PolicyFile

    kiosk.ok("groups", "add", "sspr")
    assert run(kiosk.tmp_path, policy=kiosk.policy_file).exit_code == 0
    engine = started[0].engine
    edited = PolicyFile(kiosk.policy_file)
    edited.set("organization.name", "Fabrikam")
    edited.save()
    engine.session("console:test").start("reset", "alice")  # a new visit looks at the file
    assert engine.policy.organization.name == "Fabrikam"
