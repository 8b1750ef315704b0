"""The server's limits: concurrent sessions, connections per address a minute, idle time, length."""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from tests.support.ssh import HOST, SSH_OPTS, WAIT, WELCOME, Server
from tests.support.terminal import Pane


def test_the_session_limit(make_server, connect) -> None:
    server: Server = make_server("--demo", "--max-sessions", "2", "--rate-limit", "0")
    first: Pane = connect(server)
    second: Pane = connect(server)
    first.wait_for(WELCOME)
    second.wait_for(WELCOME)
    refused = server.ssh("-tt")
    assert refused.returncode == 255
    assert "The kiosk is busy: all sessions are in use" in refused.stderr
    server.wait_log(r"refused \(port \d+\): all 2 sessions in use")
    assert len(server.child_pids()) == 2  # nothing was started for it
    first.kill()
    server.wait_log(r"disconnected after")  # logged once its slot is free
    third: Pane = connect(server)  # a slot is free again
    third.wait_for(WELCOME)
    assert not second.exited()


def test_the_rate_limit_per_source_address(make_server) -> None:
    server: Server = make_server("--demo", "--rate-limit", "3")
    for _ in range(3):  # -T: in and straight out again, without starting a kiosk
        result = server.ssh("-T")
        assert result.returncode == 1, result.stderr
        assert "needs an interactive terminal" in result.stdout
    refused = server.ssh("-T")
    assert refused.returncode == 255
    assert "Too many connections from 127.0.0.1: at most 3 a minute" in refused.stderr
    server.wait_log(r"ssh:127\.0\.0\.1 refused \(port \d+\): more than 3 connections a minute")
    # another address is counted on its own (loopback: any 127.x address reaches 127.0.0.1)
    other = server.ssh("-T", "-b", "127.0.0.2")
    assert other.returncode == 1, other.stderr
    server.wait_log(r"ssh:127\.0\.0\.2 connected")


def test_idle_timeout_and_session_length(make_server, connect) -> None:
    # two servers, so that a slow start on a busy machine cannot make the length limit end
    # the idle visitor's session before its idle limit does (started side by side)
    with ThreadPoolExecutor(2) as pool:
        starting = [pool.submit(make_server, "--demo", "--idle-timeout", "3", "--rate-limit", "0"),
                    pool.submit(make_server, "--demo", "--idle-timeout", "3",
                                "--max-session-length", "12", "--rate-limit", "0")]
        quiet, timed = (future.result() for future in starting)
    connected = time.monotonic()  # the length limit counts from the connection
    idle: Pane = connect(quiet)
    busy: Pane = connect(timed)
    # a connection that never opens a session is dropped by the same timer
    silent = subprocess.Popen(["ssh", "-p", str(quiet.port), *SSH_OPTS, "-N", f"reset@{HOST}"],
                              stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # A busy machine may take longer than the 3 s to draw the first screen. The idle visitor
    # presses keys (arrow keys only move the focus) until its welcome screen is drawn, then
    # stops: its 3 s count from its last key. The busy visitor types until the length limit.
    idle_drawn = busy_drawn = False
    idle_last_key = idle_gone = busy_gone = 0.0
    while not (idle_gone and busy_gone):
        assert time.monotonic() - connected < WAIT, (idle.screen(), busy.screen())
        if not idle_gone:
            screen = idle.screen()
            if "[ssh exited" in screen:
                idle_gone = time.monotonic()
            elif not idle_drawn and WELCOME in screen:
                idle_drawn = True
            elif not idle_drawn:
                idle_last_key = time.monotonic()
                idle.send("Down")
        if not busy_gone:
            screen = busy.screen()
            busy_drawn = busy_drawn or WELCOME in screen
            if "[ssh exited" in screen:
                busy_gone = time.monotonic()
            else:
                busy.send("Down")
        time.sleep(0.3)  # the pace of the keys; what the loop waits on is the two exits
    # the busy one typed all along and was closed by the length limit, counted from connecting
    assert busy_drawn, busy.screen()
    assert busy_gone - connected >= 12
    assert "time limit of 12 s was reached" in busy.screen()
    # the idle one was told why, 3 s after its last key, and its terminal was handed back clean
    assert idle_drawn and idle_gone - idle_last_key >= 3
    screen = idle.screen()
    assert "Session closed after 3 s without input." in screen
    assert "TRAINING MODE" not in screen
    _, err = silent.communicate(timeout=WAIT)
    assert silent.returncode == 255
    assert "without input" in err
    quiet.wait_log(r"disconnected after \d+ s: idle")
    timed.wait_log(r"disconnected after \d+ s: time limit")
