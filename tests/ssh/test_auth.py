"""Authentication modes and the persisted host key, with the real client."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from argon2 import PasswordHasher

from tests.support.ssh import WAIT, WELCOME, Server, start_server
from tests.support.terminal import Pane

PASSPHRASE = "correct horse kiosk"


def test_fixed_user_name_without_a_password(demo_server: Server) -> None:
    ok = demo_server.ssh("-T", "-o", "BatchMode=yes")  # default: --auth user --user reset
    assert ok.returncode == 1 and "needs an interactive terminal" in ok.stdout
    denied = demo_server.ssh("-T", "-o", "BatchMode=yes", user="root")
    assert denied.returncode == 255
    assert "Permission denied" in denied.stderr
    demo_server.wait_log(r"unknown user 'root'")


def test_auth_none_lets_any_user_name_in(make_server) -> None:
    server: Server = make_server("--demo", "--auth", "none")
    for user in ("reset", "someone.else"):
        result = server.ssh("-T", "-o", "BatchMode=yes", user=user)
        assert result.returncode == 1, result.stderr
        assert "needs an interactive terminal" in result.stdout


def test_keyboard_interactive_passphrase(make_server, connect) -> None:
    hashed = PasswordHasher().hash(PASSPHRASE)
    # configured through the environment, as a systemd EnvironmentFile would
    server: Server = make_server("--demo", "--auth", "passphrase",
                                 env={"KIOSK_SSH_PASSPHRASE_HASH": hashed})
    batch = server.ssh("-T", "-o", "BatchMode=yes")
    assert batch.returncode == 255 and "Permission denied" in batch.stderr
    client: Pane = connect(server)
    client.wait_for("Kiosk passphrase:")
    client.type("not it")
    client.send("Enter")
    client.wait_for(lambda s: s.count("Kiosk passphrase:") == 2)
    client.type(PASSPHRASE)
    client.send("Enter")
    client.wait_for(WELCOME)
    log = server.log()
    assert "failed sign-in 1" in log and "signed in as 'reset'" in log
    assert PASSPHRASE not in log and "not it" not in log
    # three wrong answers end the connection
    third: Pane = connect(server)
    for attempt in range(1, 4):
        third.wait_for(lambda s, n=attempt: s.count("Kiosk passphrase:") == n)
        third.type("wrong")
        third.send("Enter")
    screen = third.wait_for("[ssh exited")
    assert "Too many failed attempts" in screen or "Permission denied" in screen


def test_the_host_key_is_made_once_and_kept(tmp_path) -> None:
    first = start_server(tmp_path, "--demo")
    try:
        assert "(new)" in "".join(first.out)
        key = tmp_path / "host_key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        probe = subprocess.run(
            ["ssh", "-v", "-T", "-p", str(first.port), "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "reset@127.0.0.1"],
            capture_output=True, text=True, timeout=WAIT)
        assert f"Server host key: ssh-ed25519 {first.fingerprint}" in probe.stderr
    finally:
        first.stop()
    again = start_server(tmp_path, "--demo")
    try:
        assert again.fingerprint == first.fingerprint
        assert "(new)" not in "".join(again.out)
    finally:
        again.stop()
    os.chmod(key, 0o644)
    refused = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "serve-ssh", "--demo", "--port", "0",
         "--host", "127.0.0.1", "--host-key", str(key)], capture_output=True, text=True,
        timeout=WAIT)
    assert refused.returncode != 0
    assert "accessible by others" in refused.stderr and "chmod 600" in refused.stderr
