"""A visitor over SSH: welcome screen, alice's reset, resizing, isolation between sessions."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from tests.support.ssh import HOST, ORG, WAIT, WELCOME, Server, children, cmdline
from tests.support.terminal import Pane, identify

NEW_PASSWORD = "Violet-Harbor-Lantern-93"


def _header_right_edge(screen: str) -> int:
    """The column where the header's "TRAINING MODE" ends (the header spans the width)."""
    first = screen.splitlines()[0]
    assert "TRAINING MODE" in first, screen
    return first.index("TRAINING MODE") + len("TRAINING MODE")


def _latest_code(server: Server, recipient: str) -> str:
    rows = server.query("SELECT body FROM outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1",
                        recipient)
    assert rows, "no message in the demo outbox"
    match = re.search(r"\b(\d{4}) ?(\d{4})\b", rows[0][0])
    assert match, rows[0][0]
    return match.group(1) + match.group(2)


def test_welcome_screen_with_the_clients_terminal(session_server: Server, connect) -> None:
    client: Pane = connect(session_server, cols=100, rows=30)
    screen = client.wait_for(WELCOME)
    assert ORG in screen
    assert "1  I forgot my password" in screen
    # the kiosk drew for the client's window: the header ends at its right edge
    assert _header_right_edge(screen) == 100 - 1
    log = session_server.wait_log(r"ssh:127\.0\.0\.1 session started: pid (\d+), "
                               r"'xterm-256color' 100x30")
    pid = int(log.group(1))
    assert pid in session_server.child_pids()
    if session_server.mode == "exec":  # a forked session shows the fork server's argv and env
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert b"TERM=xterm-256color" in environ
        assert not any(e.startswith(b"KIOSK_SSH_PASSPHRASE") for e in environ)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[cmdline.index(b"--terminal") + 1] == b"ssh:127.0.0.1"
    # its own session and process group, with the pty as its controlling terminal
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    assert int(stat[2]) == pid and int(stat[3]) == pid  # process group, session
    assert int(stat[4]) != 0  # tty_nr


def test_alice_resets_her_password_over_ssh(session_server: Server, connect) -> None:
    client: Pane = connect(session_server)
    client.wait_for(WELCOME)
    identify(client, "alice")
    client.wait_for("Email a code to")
    client.send("1")  # the email method
    client.wait_for("Enter the 8-digit code")
    code = _latest_code(session_server, "alice@contoso.org")
    # the trainer's view: the code is in the outbox panel of this very screen
    client.wait_for(f"code {code[:4]} {code[4:]}")
    client.type(code)
    client.send("Enter")
    client.wait_for("Choose a new password")
    client.type(NEW_PASSWORD)
    client.wait_for("•" * len(NEW_PASSWORD) + " ")
    client.send("Enter")  # to the second field
    client.wait_for_focus_below("Type it again")
    client.type(NEW_PASSWORD)
    client.wait_for("✓ Both entries are the same")
    client.send("Enter")
    client.wait_for("Your password has been changed.")
    rows = session_server.query(
        "SELECT terminal, result FROM audit_events WHERE username = 'alice' AND activity = 'reset'")
    assert ("ssh:127.0.0.1", "succeeded") in rows
    terminals = {t for (t,) in session_server.query("SELECT DISTINCT terminal FROM audit_events")}
    assert terminals == {f"ssh:{HOST}"}


def test_the_layout_follows_the_window(session_server: Server, connect) -> None:
    client: Pane = connect(session_server, cols=100, rows=30)
    client.wait_for(WELCOME)
    client.resize(130, 40)
    client.wait_for(lambda s: "TRAINING MODE" in s and _header_right_edge(s) == 129)
    assert len(client.lines()) <= 40
    client.resize(80, 24)
    screen = client.wait_for(lambda s: "TRAINING MODE" in s and _header_right_edge(s) == 79)
    assert WELCOME in screen  # still usable at the smallest supported size
    session_server.wait_log(r"session started")


def test_sessions_are_separate_processes_with_their_own_state(session_server: Server,
                                                              connect) -> None:
    before = set(session_server.child_pids())
    first: Pane = connect(session_server)
    second: Pane = connect(session_server)
    first.wait_for(WELCOME)
    second.wait_for(WELCOME)
    identify(first, "alice")
    first.wait_for("Email a code to")
    # the other visitor is still on the welcome screen, untouched, and starts a flow of its own
    screen = second.screen()
    assert WELCOME in screen and "Email a code to" not in screen
    second.send("1")
    screen = second.wait_for("User name")
    assert "alice" not in screen  # an empty name field: not the first visitor's flow
    assert "Email a code to" in first.screen()  # which stays where it was
    pids = set(session_server.child_pids()) - before
    assert len(pids) == 2
    # one kiosk dies: only its own visitor is cut off
    victim = max(pids)
    os.kill(victim, 9)
    deadline = time.monotonic() + WAIT
    gone: list[Pane] = []
    while not gone and time.monotonic() < deadline:
        time.sleep(0.2)
        gone = [c for c in (first, second) if c.exited()]
    assert len(gone) == 1
    survivor = second if gone[0] is first else first
    assert os.path.exists(f"/proc/{min(pids)}")
    survivor.resize(90, 30)  # and it still answers
    survivor.wait_for(lambda s: "TRAINING MODE" in s and _header_right_edge(s) == 89)
    assert not survivor.exited()


def test_the_kiosk_ends_with_the_connection(session_server: Server, connect) -> None:
    before = set(session_server.child_pids())
    client: Pane = connect(session_server)
    client.wait_for(WELCOME)
    pids = set(session_server.child_pids()) - before
    assert len(pids) == 1
    pid = pids.pop()
    client.kill()  # the ssh client goes away
    deadline = time.monotonic() + WAIT
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    status = Path(f"/proc/{pid}/status").read_text() if os.path.exists(f"/proc/{pid}") else ""
    assert not status or "State:\tZ" in status, status
    session_server.wait_log(r"ssh:127\.0\.0\.1 disconnected after \d+ s: (client closed|connection "
                         r"lost)")


def test_the_connection_ends_with_the_kiosk(session_server: Server, connect) -> None:
    before = set(session_server.child_pids())
    client: Pane = connect(session_server)
    client.wait_for(WELCOME)
    (pid,) = set(session_server.child_pids()) - before
    os.kill(pid, 15)
    screen = client.wait_for("[ssh exited")
    assert "Connection to 127.0.0.1 closed." in screen
    assert "Traceback" not in screen


def test_sessions_outlive_a_dead_fork_server(make_server, connect) -> None:
    server: Server = make_server("--demo", "--fork-server", "--rate-limit", "0")
    first: Pane = connect(server)
    first.wait_for(WELCOME)
    (orphan,) = server.child_pids()
    (forks,) = [p for p in children(server.proc.pid)
                if "kiosk.ssh.fork_server" in " ".join(cmdline(p))]
    os.kill(forks, 9)
    server.wait_log(r"the fork server stopped")
    first.resize(90, 30)  # the open session still answers
    first.wait_for(lambda s: "TRAINING MODE" in s and _header_right_edge(s) == 89)
    second: Pane = connect(server)  # and new ones start without it
    second.wait_for(WELCOME)
    first.kill()  # the orphaned session still ends with its connection
    deadline = time.monotonic() + WAIT
    while _running(orphan) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(orphan)
    server.wait_log(r"disconnected after \d+ s")
    assert not second.exited() and len(server.child_pids()) == 1


def _running(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
