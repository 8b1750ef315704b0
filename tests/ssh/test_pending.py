"""Connections that have not signed in: a short grace, caps of their own, never a session slot.

The new options are given as KIOSK_SSH_* variables: a server without them ignores unknown
variables, so these tests fail on what they check, not on a usage error.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import asyncssh

from tests.support.ssh import HOST, WAIT, WELCOME, Server
from tests.support.terminal import Pane, Tmux

OTHER = "127.0.0.2"  # another source address; on Linux all of 127/8 reaches 127.0.0.1


def silent(server: Server, source: str = HOST) -> socket.socket:
    """A TCP connection that will never say anything."""
    return socket.create_connection((HOST, server.port), timeout=WAIT, source_address=(source, 0))


def read_until(sock: socket.socket, timeout: float, *,
               want: bytes | None = None) -> tuple[bytes, bool]:
    """What the server sent, and whether it closed the connection, within `timeout` seconds
    (or as soon as `want` has arrived)."""
    data, deadline = b"", time.monotonic() + timeout
    for _ in range(1000):  # bounded by count as well as by time
        left = deadline - time.monotonic()
        if left <= 0 or (want is not None and want in data):
            return data, False
        sock.settimeout(left)
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(4096) != b""
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False
    finally:
        sock.setblocking(True)


def welcome_or_exit(client: Pane) -> str:
    return client.wait_for(lambda s: WELCOME in s or "[ssh exited" in s)


def test_silent_connections_leave_the_sessions_free(make_server, connect) -> None:
    server: Server = make_server("--demo", "--max-sessions", "2", "--rate-limit", "0",
                                 env={"KIOSK_SSH_PER_SOURCE_MAX_STARTUPS": "10"})
    opened = time.monotonic()  # before connecting: the grace counts from the server's accept
    socks = [silent(server) for _ in range(4)]
    try:
        for sock in socks:  # each one is in: the server sent its version line
            banner, closed = read_until(sock, WAIT, want=b"\n")
            assert banner.startswith(b"SSH-2.0-") and not closed
        client: Pane = connect(server)
        screen = welcome_or_exit(client)
        assert WELCOME in screen, screen
        # they never spoke SSH: gone when the login grace (10 s) ends, not the login timeout
        for sock in socks:
            _, closed = read_until(sock, opened + WAIT - time.monotonic())
            assert closed
            assert time.monotonic() - opened >= 10
        server.wait_log(r"ssh:127\.0\.0\.1 disconnected after \d+ s: no key exchange "
                        r"within the 10 s login grace")
        assert not client.exited()
    finally:
        for sock in socks:
            sock.close()


def test_pending_sign_ins_are_capped_per_source_address(make_server, connect) -> None:
    server: Server = make_server("--demo", "--rate-limit", "0", env={
        "KIOSK_SSH_PER_SOURCE_MAX_STARTUPS": "3", "KIOSK_SSH_LOGIN_GRACE": "120"})
    held = [silent(server) for _ in range(3)]
    try:
        for sock in held:
            banner, _ = read_until(sock, WAIT, want=b"\n")
            assert banner.startswith(b"SSH-2.0-")
        # the fourth from the same address is dropped at once, before the SSH handshake
        extra = silent(server)
        data, closed = read_until(extra, WAIT)
        extra.close()
        assert closed and data == b"", data
        server.wait_log(r"ssh:127\.0\.0\.1 refused \(port \d+\): 3 sign-ins pending from "
                        r"127\.0\.0\.1")
        assert server.ssh("-T").returncode == 255  # a real client from there too
        # another address still gets in
        other: Pane = connect(server, extra=("-b", OTHER))
        screen = welcome_or_exit(other)
        assert WELCOME in screen, screen
        assert all(still_open(sock) for sock in held)
        # one leaves: its place is free again
        held.pop().close()
        server.wait_log(r"ssh:127\.0\.0\.1 disconnected after")
        again = server.ssh("-T")
        assert again.returncode == 1, again.stderr
        assert "needs an interactive terminal" in again.stdout
    finally:
        for sock in held:
            sock.close()


def test_the_grace_ends_where_a_person_may_be_asked(make_server, tmux: Tmux, tmp_path) -> None:
    """A first visit asks the visitor to confirm the host key: that may take longer than the
    grace, which only covers what the client does on its own."""
    server: Server = make_server("--demo", "--rate-limit", "0",
                                 env={"KIOSK_SSH_LOGIN_GRACE": "2"})
    known = tmp_path / "known_hosts"
    ssh = (f"ssh -p {server.port} -o StrictHostKeyChecking=ask -o UserKnownHostsFile={known} "
           f"reset@{HOST}")
    visitor = tmux.open("first", ssh, cols=100, rows=30, env={"TERM": "xterm-256color"},
                        stay="ssh")
    visitor.wait_for("continue connecting")
    # a silent connection opened now is dropped when its grace ends: by then the visitor has
    # been at the prompt for longer than the grace
    sock = silent(server)
    try:
        _, closed = read_until(sock, WAIT)
        assert closed
    finally:
        sock.close()
    server.wait_log(r"no key exchange within the 2 s login grace")
    visitor.type("yes")
    visitor.send("Enter")
    screen = welcome_or_exit(visitor)
    assert WELCOME in screen, screen


async def test_a_terminal_type_with_a_nul_byte_is_refused(make_server) -> None:
    server: Server = make_server("--demo", "--rate-limit", "0")
    before = set(server.child_pids())
    conn = await asyncio.wait_for(asyncssh.connect(
        HOST, server.port, username="reset", known_hosts=None, client_keys=None,
        agent_path=None, preferred_auth="none"), 20)
    try:
        with contextlib.suppress(asyncssh.Error, OSError):
            await asyncio.wait_for(conn.create_session(
                asyncssh.SSHClientSession, term_type="xterm\0evil"), 20)
        await asyncio.wait_for(conn.wait_closed(), 20)  # closed, not left hanging
    finally:
        conn.abort()
    server.wait_log(r"refused terminal type 'xterm\?evil'")
    server.wait_log(r"disconnected after \d+ s: invalid terminal type")
    log = server.log()
    assert "Traceback" not in log and "ValueError" not in log, log
    assert set(server.child_pids()) <= before  # no kiosk was started for it
