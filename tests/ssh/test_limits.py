"""The server's limits: concurrent sessions, connections per address a minute, idle time, length."""

from __future__ import annotations

import subprocess
import time

from tests.ssh.conftest import HOST, SSH_OPTS, WELCOME, Client, Server


def test_the_session_limit(make_server, connect) -> None:
    server: Server = make_server("--demo", "--max-sessions", "2", "--rate-limit", "0")
    first: Client = connect(server)
    second: Client = connect(server)
    first.wait_for(WELCOME)
    second.wait_for(WELCOME)
    refused = server.ssh("-tt")
    assert refused.returncode == 255
    assert "The kiosk is busy: all sessions are in use" in refused.stderr
    server.wait_log(r"refused \(port \d+\): all 2 sessions in use")
    assert len(server.child_pids()) == 2  # nothing was started for it
    first.kill()
    server.wait_log(r"disconnected after")
    time.sleep(0.3)
    third: Client = connect(server)  # a slot is free again
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
    server: Server = make_server("--demo", "--idle-timeout", "3", "--max-session-length", "7",
                                 "--rate-limit", "0")
    idle: Client = connect(server)
    busy: Client = connect(server)
    idle.wait_for(WELCOME)
    busy.wait_for(WELCOME)
    started = time.monotonic()
    # a connection that never opens a session is dropped by the same timer
    silent = subprocess.Popen(["ssh", "-p", str(server.port), *SSH_OPTS, "-N", f"reset@{HOST}"],
                              stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # the busy visitor keeps typing (arrow keys only move the focus) until the length limit
    while not busy.exited():
        assert time.monotonic() - started < 15, busy.screen()
        busy.send("Down")
        time.sleep(0.5)
    assert time.monotonic() - started >= 5
    assert "time limit of 7 s was reached" in busy.screen()
    # the idle one was told why long before, and its terminal was handed back clean
    screen = idle.screen()
    assert "Session closed after 3 s without input." in screen
    assert "[ssh exited" in screen
    assert "TRAINING MODE" not in screen
    _, err = silent.communicate(timeout=10)
    assert silent.returncode == 255
    assert "without input" in err
    server.wait_log(r"disconnected after \d+ s: idle")
    server.wait_log(r"disconnected after \d+ s: time limit")
