"""`kiosk admin keys` (status, generate, rotate) and `policy check` on secret files."""

from __future__ import annotations

import os
import re

from kiosk.engine.keys import fingerprint, parse_key
from tests.support.admin_cli import Kiosk


def test_status_names_the_key_file_and_its_fingerprint(seeded: Kiosk) -> None:
    out = seeded.ok("keys", "status").stdout
    key_file = seeded.tmp_path / "kiosk.key"
    key = parse_key(key_file.read_text(), "test")
    assert f"the key file {key_file}" in out
    assert fingerprint(key)[:16] in out and key.hex() not in out


def test_generate_prints_a_new_key() -> None:
    from click.testing import CliRunner

    from kiosk.cli import main

    keys = {CliRunner().invoke(main, ["admin", "keys", "generate"]).stdout.strip()
            for _ in range(2)}
    assert len(keys) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", k) for k in keys)


def test_rotate_says_what_was_rekeyed_and_what_cannot_be(seeded: Kiosk) -> None:
    key_file = seeded.tmp_path / "kiosk.key"
    before = key_file.read_text()
    out = seeded.ok("keys", "rotate").stdout
    assert key_file.read_text() != before and (key_file.stat().st_mode & 0o777) == 0o600
    assert "re-keyed: 0 authenticator secret(s), 0 enrolment(s) in progress" in out
    assert "cannot be re-keyed:" in out and "codes already sent" in out
    assert "decoys" in out and "looks different" in out
    assert "alice" in seeded.ok("users", "list").stdout  # the next start reads the new key


def test_rotate_with_the_key_in_the_environment_needs_the_new_one(kiosk: Kiosk) -> None:
    old, new = os.urandom(32).hex(), os.urandom(32).hex()
    result = kiosk.run("users", "add", "zoe", env={"KIOSK_SECRET_KEY": old})
    assert result.exit_code == 0, result.output
    assert not (kiosk.tmp_path / "kiosk.key").exists()
    result = kiosk.run("keys", "rotate", env={"KIOSK_SECRET_KEY": old})
    assert result.exit_code == 1 and "error: policy: KIOSK_NEW_SECRET_KEY:" in result.output
    result = kiosk.run("keys", "rotate", env={"KIOSK_SECRET_KEY": old,
                                              "KIOSK_NEW_SECRET_KEY": new})
    assert result.exit_code == 0 and "set KIOSK_SECRET_KEY to the new key" in result.output
    result = kiosk.run("users", "list", env={"KIOSK_SECRET_KEY": old})
    assert result.exit_code == 1 and "not the key" in result.output
    result = kiosk.run("users", "list", env={"KIOSK_SECRET_KEY": new})
    assert result.exit_code == 0 and "zoe" in result.output


def test_policy_check_names_a_secret_file_others_can_read(kiosk: Kiosk) -> None:
    secret = kiosk.tmp_path / "smtp.secret"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    policy = kiosk.tmp_path / "real.toml"
    policy.write_text(f'[delivery.smtp]\npassword_file = "{secret}"\n'
                      f'[delivery.gateway]\nsecret_file = "{kiosk.tmp_path / "nope"}"\n')
    result = kiosk.fails("policy", "check", str(policy))
    assert f"{policy}: delivery.smtp.password_file: {secret} may be read by group or others" \
        in result.stdout
    assert f"{policy}: delivery.gateway.secret_file: cannot read" in result.stdout
    assert "s3cret" not in result.output
    secret.chmod(0o600)
    (kiosk.tmp_path / "nope").write_text("gw\n")
    (kiosk.tmp_path / "nope").chmod(0o600)
    assert "valid" in kiosk.ok("policy", "check", str(policy)).stdout
