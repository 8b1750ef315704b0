"""deploy/bin/kiosk-ssh: however the connection ends (the client's `~.`, the wrapper told to
stop, ssh killed), the visitor's terminal is left as it was, not in the alternate screen with
mouse reporting on and not in raw mode (issue 13). The kiosk cannot do it: the connection is
gone."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import textual.drivers.linux_driver

from kiosk.terminal_modes import TERMINAL_RESTORE
from kiosk.ui_commands import TERMINAL_RESTORE as KIOSK_RESTORE
from tests.support.ssh import DEPLOY, WELCOME, Server, children, ssh_args
from tests.support.ssh import cmdline as command_line
from tests.support.terminal import Pane, Tmux

WRAPPER = DEPLOY / "bin" / "kiosk-ssh"


def test_the_wrapper_writes_the_kiosks_own_restore_sequence() -> None:
    found = re.search(r"^RESTORE='([^']*)'$", WRAPPER.read_text(encoding="utf-8"), re.M)
    assert found, "no RESTORE='...' line in kiosk-ssh"
    written = subprocess.run(["sh", "-c", 'printf "$1"', "sh", found.group(1)],
                             capture_output=True, check=True).stdout
    assert written == TERMINAL_RESTORE.encode()
    assert KIOSK_RESTORE is TERMINAL_RESTORE  # the kiosk's SIGTERM/SIGHUP path uses the same


def test_the_restore_sequence_undoes_every_mode_textual_switches_on() -> None:
    lines = Path(textual.drivers.linux_driver.__file__).read_text(encoding="utf-8").splitlines()
    source = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    # 7 (line wrap) and 25 (cursor) are modes Textual switches on again when it exits
    switched_on = set(re.findall(r'"\\x1b\[\?(\d+)h"', source)) - {"7", "25"}
    assert {"1000", "1003", "1049", "2004"} <= switched_on, "the driver's source has changed"
    for mode in switched_on:
        assert f"\x1b[?{mode}l" in TERMINAL_RESTORE, f"mode {mode} is left on"
    for shown in ("\x1b[?25h", "\x1b[?7h"):  # the cursor Textual hides, the wrap it turns off
        assert shown in TERMINAL_RESTORE
    # kitty keyboard protocol: each screen has its own stack, so pop it before leaving
    assert "\x1b[<u" in TERMINAL_RESTORE and TERMINAL_RESTORE.endswith("\x1b[?1049l")


def test_the_wrapper_passes_sshs_exit_status_through(tmp_path: Path) -> None:
    fake = tmp_path / "ssh"  # an ssh that fails the way a refused connection does
    fake.write_text("#!/bin/sh\nexit 255\n", encoding="utf-8")
    fake.chmod(0o755)
    done = subprocess.run(["sh", str(WRAPPER), "-p", "1", "nobody@example.invalid"],
                          env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, capture_output=True)
    assert done.returncode == 255


@dataclass
class Window:
    """An ssh client (through the wrapper or not) in a tmux window that outlives it: the shell
    around it records the terminal's modes (stty -g) before and after, then ssh's status."""

    client: Pane
    workdir: Path

    def modes(self) -> tuple[str, str]:
        before, after = (self.workdir / "before", self.workdir / "after")
        return before.read_text(encoding="utf-8"), after.read_text(encoding="utf-8")

    def pids(self) -> tuple[int, int]:
        """(the wrapper, its ssh)."""
        wrapper = next(p for p in children(self.client.pid()) if str(WRAPPER) in command_line(p))
        ssh = next(p for p in children(wrapper) if command_line(p)[0] == "ssh")
        return wrapper, ssh


@pytest.fixture
def open_window(tmux: Tmux, demo_server: Server, tmp_path: Path) -> Callable[[str], Window]:
    def open_(client: str) -> Window:
        command = f"sh {WRAPPER}" if client == "wrapper" else "ssh"
        args = shlex.join(ssh_args(demo_server.port))
        pane = tmux.open(f"esc-{client}", f"stty -g > before; {command} {args}; s=$?; "
                         f"stty -g > after; echo \"[ssh exited $s]\"; sleep 600",
                         cols=100, rows=30, env={"TERM": "xterm-256color"}, cwd=tmp_path)
        window = Window(pane, tmp_path)
        window.client.wait_for(WELCOME)
        assert window.client.modes() == "1 1"  # the kiosk's own terminal modes
        return window

    return open_


@pytest.mark.parametrize(("client", "after"), [
    ("wrapper", "0 0"),  # kiosk-ssh: the terminal as it was
    ("ssh", "1 1"),  # plain ssh (OpenSSH 9.2): why the wrapper exists
])
def test_the_terminal_after_the_clients_escape(open_window: Callable[[str], Window], client: str,
                                               after: str) -> None:
    window = open_window(client)
    window.client.send("Enter")  # the escape is read only at the start of a line
    window.client.type("~.")  # the wrapper leaves it to ssh: the connection ends
    window.client.wait_for("[ssh exited 255]")
    assert window.client.modes() == after
    before, now = window.modes()
    assert now == before  # ssh itself leaves raw mode


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_wrapper_told_to_stop_ends_ssh_and_restores(open_window: Callable[[str], Window],
                                                      signum: int, status: int) -> None:
    window = open_window("wrapper")
    wrapper, ssh = window.pids()
    os.kill(wrapper, signum)  # a shell would run its trap only after ssh: the wrapper must not wait
    window.client.wait_for(f"[ssh exited {status}]")
    assert not Path(f"/proc/{ssh}").exists() or "ssh" not in command_line(ssh)[0]
    assert window.client.modes() == "0 0"
    before, now = window.modes()
    assert now == before


def test_an_ssh_killed_in_raw_mode_leaves_a_usable_terminal(
        open_window: Callable[[str], Window]) -> None:
    window = open_window("wrapper")
    _wrapper, ssh = window.pids()
    os.kill(ssh, signal.SIGKILL)  # no clean-up of its own: the terminal stays raw
    window.client.wait_for("[ssh exited 137]")
    assert window.client.modes() == "0 0"
    before, now = window.modes()
    assert now == before  # the wrapper put the modes back (stty)
