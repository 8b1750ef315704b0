"""Editing the policy file: each edit checked like `policy check`, a diff, the file written
back with its comments, atomically, with its mode, and never over someone else's edit."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kiosk.engine.policy_file import PolicyFile, PolicyFileError

TEXT = """\
# Contoso's kiosk policy (kept by the helpdesk)
[organization]
name = "Contoso"   # shown on every screen

[sspr]
enabled = "selected"          # none | selected | all
groups = ["sspr-users"]       # nested groups count
methods_required = 1          # administrators always need 2
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(TEXT, encoding="utf-8")
    os.chmod(path, 0o600)
    return path


def test_an_invalid_edit_gives_the_policy_check_problem_and_is_not_saved(
        policy_file: Path) -> None:
    edited = PolicyFile(policy_file)
    edited.set("sspr.methods_required", 3)
    policy, problems = edited.check()
    assert policy is None
    assert problems == ["sspr.methods_required: must be between 1 and 2 (got 3)"]
    with pytest.raises(PolicyFileError, match="not saved"):
        edited.save()
    assert policy_file.read_text(encoding="utf-8") == TEXT


def test_a_valid_edit_shows_a_diff_and_keeps_comments_and_mode(policy_file: Path) -> None:
    edited = PolicyFile(policy_file)
    edited.set("sspr.methods_required", 2)
    edited.set("registration.reconfirm_days", 90)  # a table the file did not have
    edited.set("organization.name", "Contoso")  # unchanged: the file keeps its spelling
    assert edited.check()[1] == []
    diff = edited.diff()
    assert "-methods_required = 1          # administrators always need 2" in diff
    assert "+methods_required = 2          # administrators always need 2" in diff
    assert "+reconfirm_days = 90" in diff
    assert not any(line.startswith(("-name", "+name")) for line in diff)
    edited.save()
    saved = policy_file.read_text(encoding="utf-8")
    assert saved.startswith("# Contoso's kiosk policy (kept by the helpdesk)\n")
    assert 'name = "Contoso"   # shown on every screen' in saved
    assert stat.S_IMODE(policy_file.stat().st_mode) == 0o600
    assert not edited.changed and PolicyFile(policy_file).get("sspr.methods_required") == 2
    assert [p.name for p in policy_file.parent.iterdir()] == ["kiosk.toml"]  # no temp left


def test_an_edit_made_elsewhere_meanwhile_is_not_overwritten(policy_file: Path) -> None:
    edited = PolicyFile(policy_file)
    edited.set("sspr.methods_required", 2)
    policy_file.write_text(TEXT.replace('"Contoso"', '"Fabrikam"'), encoding="utf-8")
    with pytest.raises(PolicyFileError, match="changed on disk"):
        edited.save()
    assert "Fabrikam" in policy_file.read_text(encoding="utf-8")


def test_the_administrator_warning_is_given_for_the_edited_file(policy_file: Path) -> None:
    edited = PolicyFile(policy_file)
    assert edited.warnings() == []
    edited.set("sspr.methods", ["email", "questions"])
    assert edited.warnings()[0].startswith("sspr.methods: no administrator can reset")


def test_a_broken_file_is_one_clear_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[sspr\n", encoding="utf-8")
    with pytest.raises(PolicyFileError, match="not valid TOML"):
        PolicyFile(broken)


def test_a_symlinked_policy_keeps_its_link_and_the_target_is_replaced(policy_file: Path,
                                                                       tmp_path: Path) -> None:
    link = tmp_path / "etc-kiosk.toml"
    link.symlink_to(policy_file)
    edited = PolicyFile(link)
    edited.set("sspr.methods_required", 2)
    edited.save()
    assert link.is_symlink() and "methods_required = 2" in policy_file.read_text("utf-8")
