"""The locked-down helpdesk terminal: deploy/bin/helpdesk-kiosk-session on a Linux console
(TERM=linux, 16 colours), the way getty's autologin starts it; and `kiosk run --kiosk`
starting the app again after it crashed."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.ssh import (
    WAIT,
    WELCOME,
    audit_terminals,
    cmdline,
    pids_with,
    session_script,
    shared_demo,
)
from tests.support.terminal import KIOSK, Pane, Tmux, identify

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _console(tmux: Tmux, command: str, name: str) -> Pane:
    # a console login has no SSH_CONNECTION; TERM=linux is what getty sets on a VT
    return tmux.open(name, command, unset=["SSH_CONNECTION"], env={"TERM": "linux"}, stay="ssh")


def _colours_used(client: Pane) -> set[str]:
    escaped = client.screen(escapes=True)
    return {code for codes in SGR.findall(escaped) for code in codes.split(";") if code}


def test_the_console_session_on_a_linux_console(tmux: Tmux, tmp_path: Path) -> None:
    policy, db = shared_demo(tmp_path / "demo")
    script = session_script(tmp_path, KIOSK_BIN=KIOSK, KIOSK_POLICY=str(policy),
                            KIOSK_CONSOLE_NAME="lobby-1", KIOSK_LOG=str(tmp_path / "k.log"))
    # getty starts the login shell as "-sh"-style with no arguments; su/sshd pass "-c ..."
    client = _console(tmux, f"{script} -c 'echo PWNED'", "console")
    screen = client.wait_for(WELCOME)
    assert "PWNED" not in screen
    # 16 colours: SGR 30-37/90-97 and 40-47/100-107 only, never 256 or true colour
    codes = _colours_used(client)
    assert not codes & {"38", "48"}, codes
    assert codes & {str(n) for n in [*range(30, 38), *range(90, 98)]}
    (pid,) = pids_with(f"--terminal lobby-1 --policy {policy}")
    argv = cmdline(pid)
    assert argv[argv.index("run") + 1] == "--kiosk"
    # the keys that would stop, suspend or quit a terminal program do nothing
    for key in ("C-c", "C-z", "C-\\", "C-q", "C-d"):
        client.send(key)
    identify(client, "alice")
    client.wait_for("Email a code to")
    assert not client.exited()
    assert audit_terminals(db, "alice") == {"console:lobby-1"}


def test_the_session_script_needs_a_terminal(tmp_path: Path) -> None:
    script = session_script(tmp_path, KIOSK_BIN="/bin/echo")
    result = subprocess.run([str(script), "-c", "id"], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 1
    assert "needs an interactive terminal" in result.stderr
    assert "uid=" not in result.stdout


CRASHING_KIOSK = textwrap.dedent("""
    import sys
    from pathlib import Path

    from kiosk.adapters.embedded import EmbeddedBackend
    from kiosk.engine.engine import open_engine
    from kiosk.ui_commands import run_kiosk

    engine = open_engine(sys.argv[1])


    class Crashing(EmbeddedBackend):
        # the user name "crash" makes the app fail the way an unhandled error does
        async def start(self, purpose, username, language=None):
            if username == "crash":
                from textual._context import active_app
                active_app.get()._handle_exception(RuntimeError("secret-ish detail"))
            return await super().start(purpose, username, language)


    run_kiosk(lambda: Crashing(engine, terminal="console:crash-test"), log_path=Path(sys.argv[2]),
              kiosk_mode=True)
    print("run_kiosk returned")
""")


def test_kiosk_mode_starts_again_after_a_crash(tmux: Tmux, tmp_path: Path) -> None:
    policy, _ = shared_demo(tmp_path / "demo")
    harness = tmp_path / "crashing_kiosk.py"
    harness.write_text(CRASHING_KIOSK, encoding="utf-8")
    log = tmp_path / "kiosk.log"
    client = _console(tmux, f"{sys.executable} {harness} {policy} {log}", "crash")
    client.wait_for(WELCOME)
    identify(client, "crash")
    # a new app on the same terminal: the welcome screen again, with a note, no traceback
    screen = client.wait_for(lambda s: WELCOME in s and "Sorry, something went wrong" in s)
    assert "User name" not in screen
    assert "Traceback" not in screen and "secret-ish" not in screen
    assert "run_kiosk returned" not in screen and "[ssh exited" not in screen
    text = log.read_text(encoding="utf-8")
    assert "RuntimeError" in text and "secret-ish" not in text
