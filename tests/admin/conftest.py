"""Fixtures for `kiosk admin` tests: a policy file with cheap argon2 and a SQLite database in
tmp_path, a CliRunner that runs the real `kiosk` entry point, and direct engine access for
seeding and checking what the commands did."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.admin_cli import POLICY, Kiosk


@pytest.fixture
def kiosk(tmp_path: Path) -> Kiosk:
    database = tmp_path / "kiosk.db"
    policy_file = tmp_path / "kiosk.toml"
    policy_file.write_text(POLICY.format(db=database), encoding="utf-8")
    return Kiosk(tmp_path, policy_file, database)


@pytest.fixture
def seeded(kiosk: Kiosk) -> Kiosk:
    """groups sspr ⊃ staff; alice (staff, email + mobile), bob (staff, nothing registered)."""
    kiosk.ok("groups", "add", "sspr")
    kiosk.ok("groups", "add", "staff")
    kiosk.ok("groups", "add-member", "sspr", "--group", "staff")
    kiosk.ok("users", "add", "alice", "--display-name", "Alice Archer", "--given", "Alice",
             "--family", "Archer", "--email", "alice@contoso.org", "--mobile", "+14255550142",
             "--group", "staff")
    kiosk.ok("users", "add", "bob", "--group", "staff")
    return kiosk

