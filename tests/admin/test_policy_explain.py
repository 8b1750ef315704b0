"""`kiosk admin policy explain --user NAME` and the administrator warning of `policy check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kiosk.cli import main


@pytest.fixture(scope="module")
def demo_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    result = run("demo", "reset", "--directory", str(directory))
    assert result.exit_code == 0, result.output
    return directory / "kiosk.toml"


def run(*args: str) -> Result:
    runner = CliRunner(env={"KIOSK_POLICY": None, "KIOSK_DATABASE_URL": None})
    return runner.invoke(main, ["admin", *args], prog_name="kiosk")


def explain(policy: Path, *args: str) -> Result:
    return run("policy", "explain", "--policy", str(policy), *args)


def test_explain_an_administrator(demo_policy: Path) -> None:
    result = explain(demo_policy, "--user", "carol")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "carol (Carol Clark): administrator, enabled"
    assert "reset:    yes" in lines
    assert "usable at reset:      email, mobile (2 of 2 needed)" in lines
    assert "  - administrator: always in scope, always needs two methods, never security " \
           "questions" in lines
    assert "warning:" not in result.stdout


def test_explain_out_of_scope_and_unregistered_users(demo_policy: Path) -> None:
    frank = explain(demo_policy, "--user", "frank").stdout
    assert "reset:    no: not in scope: none of the user's groups is in sspr.groups " \
           "(sspr-users)" in frank.splitlines()
    erin = json.loads(explain(demo_policy, "--user", "Erin", "--format", "json").stdout)
    assert erin["username"] == "erin" and erin["usable"] == [] and erin["registered"] == []
    assert {v["purpose"]: v["allowed"] for v in erin["verdicts"]} == {
        "reset": False, "unlock": False, "register": True, "change": True}


def test_explain_an_unknown_name_fails(demo_policy: Path) -> None:
    result = explain(demo_policy, "--user", "nobody")
    assert result.exit_code == 1 and "no such user" in result.stdout
    assert run("policy", "explain", "--policy", str(demo_policy)).exit_code == 2  # no --user


def test_check_and_explain_warn_that_administrators_are_locked_out(demo_policy: Path,
                                                                  tmp_path: Path) -> None:
    locked_out = tmp_path / "kiosk.toml"
    locked_out.write_text(demo_policy.read_text(encoding="utf-8").replace(
        'methods_required = 1', 'methods_required = 1\nmethods = ["email", "questions"]'),
        encoding="utf-8")
    check = run("policy", "check", str(locked_out))
    assert check.exit_code == 0, check.output  # valid, but told
    warning = (f"{locked_out}: warning: sspr.methods: no administrator can reset or unlock: "
               "administrators need 2 methods and may not use security questions, but this "
               "policy offers them only email")
    assert check.stdout.splitlines()[1].startswith(warning)
    carol = explain(locked_out, "--user", "carol").stdout
    assert "reset:    no: not registered enough (needs 2 usable method(s))" in carol
    assert "warning: sspr.methods: no administrator can reset" in carol
    assert "warning:" not in run("policy", "check", str(demo_policy)).stdout
