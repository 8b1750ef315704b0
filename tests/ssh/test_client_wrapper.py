"""deploy/bin/kiosk-ssh: after the client's `~.` (the connection is gone, so the kiosk cannot
restore the terminal) the visitor's terminal is left as it was, not in the alternate screen
with mouse reporting on (issue 13)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest

from kiosk.ui_commands import TERMINAL_RESTORE
from tests.support.ssh import DEPLOY, HOST, SSH_OPTS, WELCOME, Client, Server, Tmux

WRAPPER = DEPLOY / "bin" / "kiosk-ssh"


def test_the_wrapper_writes_the_kiosks_own_restore_sequence() -> None:
    found = re.search(r"^RESTORE='([^']*)'$", WRAPPER.read_text(encoding="utf-8"), re.M)
    assert found, "no RESTORE='...' line in kiosk-ssh"
    written = subprocess.run(["sh", "-c", 'printf "$1"', "sh", found.group(1)],
                             capture_output=True, check=True).stdout
    assert written == TERMINAL_RESTORE.encode()


def test_the_wrapper_passes_sshs_exit_status_through(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "ssh"  # an ssh that fails the way a refused connection does
    fake.write_text("#!/bin/sh\nexit 255\n", encoding="utf-8")
    fake.chmod(0o755)
    done = subprocess.run(["sh", str(WRAPPER), "-p", "1", "nobody@example.invalid"],
                          env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, capture_output=True)
    assert done.returncode == 255


@pytest.fixture
def session(tmux: Tmux, demo_server: Server) -> Iterator[tuple[Tmux, str]]:
    yield tmux, f"-p {demo_server.port} {' '.join(SSH_OPTS)} reset@{HOST}"


@pytest.mark.parametrize(("client", "after"), [
    ("wrapper", "0 0"),  # kiosk-ssh: the terminal as it was
    ("ssh", "1 1"),  # plain ssh: why the wrapper exists
])
def test_the_terminal_after_the_clients_escape(session: tuple[Tmux, str], client: str,
                                               after: str) -> None:
    tmux, args = session
    command = f"sh {WRAPPER}" if client == "wrapper" else "ssh"
    name = f"esc-{client}"
    tmux.run("new-session", "-d", "-s", name, "-x", "100", "-y", "30", "sh", "-c",
             f"TERM=xterm-256color {command} {args}; echo \"[ssh exited $?]\"; sleep 600")
    window = Client(tmux, name)

    def flags() -> str:
        return tmux.run("display", "-p", "-t", name, "#{alternate_on} #{mouse_any_flag}").strip()

    window.wait_for(WELCOME)
    assert flags() == "1 1"  # the kiosk's own terminal modes
    window.send("Enter")  # the escape is read only at the start of a line
    window.type("~.")
    window.wait_for("[ssh exited 255]")
    assert flags() == after
