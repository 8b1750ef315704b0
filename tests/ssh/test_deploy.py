"""The example systemd units parse (systemd-analyze verify) and the session script is sh."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.ssh import DEPLOY

UNITS = DEPLOY / "systemd"


def _verify(unit: str, unit_path: Path) -> list[str]:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    env = {**os.environ, "SYSTEMD_UNIT_PATH": f"{unit_path}:"}
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", unit], env=env,
                            capture_output=True, text=True, timeout=60, cwd=unit_path)
    # the program is not installed here: that is the only complaint allowed
    return [line for line in (result.stdout + result.stderr).splitlines()
            if line.strip() and "/opt/helpdesk-kiosk/bin/kiosk is not executable" not in line]


@pytest.mark.parametrize("unit", ["helpdesk-kiosk-console.service",
                                  "helpdesk-kiosk-ssh.service"])
def test_units_verify(unit: str, tmp_path: Path) -> None:
    shutil.copy(UNITS / unit, tmp_path / unit)
    assert _verify(unit, tmp_path) == []


def test_the_getty_autologin_override_verifies(tmp_path: Path) -> None:
    shutil.copytree(UNITS / "getty@tty1.service.d", tmp_path / "getty@tty1.service.d")
    assert _verify("getty@tty1.service", tmp_path) == []
    text = (UNITS / "getty@tty1.service.d" / "helpdesk-kiosk.conf").read_text()
    assert "ExecStart=\n" in text and "--autologin kiosk" in text


def test_the_session_script_is_plain_sh() -> None:
    script = DEPLOY / "bin" / "helpdesk-kiosk-session"
    assert os.access(script, os.X_OK)
    subprocess.run(["sh", "-n", str(script)], check=True)
    if shutil.which("dash"):
        subprocess.run(["dash", "-n", str(script)], check=True)
