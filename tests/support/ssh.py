"""Driving `kiosk serve-ssh` with the real OpenSSH client inside tmux (tests/ssh): the server
subprocess, the ssh command line, the deploy/ scripts, and reading /proc. The ssh clients run
in tmux windows (tests/support/terminal.py).

The tests wait on states (a screen only the expected step shows, a log line), never on a fixed
pause: the machine may be busy. The deadlines are generous; they only bound a hang (`WAIT`).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.terminal import WAIT

HOST = "127.0.0.1"
SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "ConnectTimeout=10"]


def ssh_args(port: int, *options: str, user: str = "reset") -> list[str]:
    """`ssh`'s arguments (after the program's name) for a connection to 127.0.0.1:`port`."""
    return ["-p", str(port), *SSH_OPTS, *options, f"{user}@{HOST}"]


# ---------------------------------------------------------------------- the server
@dataclass
class Server:
    proc: subprocess.Popen[str]
    port: int
    workdir: Path
    out: list[str] = field(default_factory=list)
    demo_db: Path | None = None
    fingerprint: str = ""
    mode: str = "exec"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.err"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_log(self, pattern: str, timeout: float = WAIT) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.log())
            if match:
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not in the server log:\n{self.log()}")
            time.sleep(0.1)

    def ssh(self, *options: str, command: str | None = None, user: str = "reset",
            timeout: float = WAIT, stdin: str | None = "") -> subprocess.CompletedProcess[str]:
        """One non-interactive `ssh` run (for the refusals)."""
        cmd = ["ssh", *ssh_args(self.port, *options, user=user)]
        if command is not None:
            cmd.append(command)
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)

    def child_pids(self) -> list[int]:
        """The kiosk processes of this server's sessions (forked by the fork server, if any)."""
        pids = []
        for pid in children(self.proc.pid):
            if "kiosk.ssh.fork_server" in " ".join(cmdline(pid)):
                pids += children(pid)
            else:
                pids.append(pid)
        return pids

    def query(self, sql: str, *params: object) -> list[tuple]:  # type: ignore[type-arg]
        assert self.demo_db is not None
        with sqlite3.connect(self.demo_db) as conn:
            return conn.execute(sql, params).fetchall()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_server(workdir: Path, *args: str, env: dict[str, str] | None = None,
                 timeout: float = 60) -> Server:
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "kiosk.cli", "serve-ssh", "--host", HOST, "--port", "0",
           "--host-key", str(workdir / "host_key"), *args]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_STATE_HOME": str(workdir / "state"),
                **(env or {})}
    err = open(workdir / "server.err", "w", encoding="utf-8")  # noqa: SIM115 - kept by the process
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=full_env,
                            cwd=workdir)
    err.close()
    server = Server(proc=proc, port=0, workdir=workdir)
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("serve-ssh stopped:\n" + "".join(server.out) + server.log())
        server.out.append(line)
        if m := re.search(r"port (\d+)$", line.strip()):
            server.port = int(m.group(1))
        if m := re.search(r"Demo database .*: (.+)$", line.strip()):
            server.demo_db = Path(m.group(1))
        if m := re.search(r"(SHA256:\S+)", line):
            server.fingerprint = m.group(1)
        if line.startswith("Ready"):
            return server
    proc.kill()
    raise AssertionError("serve-ssh did not get ready:\n" + "".join(server.out))


WELCOME = "I forgot my password"
ORG = "Contoso (training)"


# ---------------------------------------------------------------------- deploy/ helpers
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def session_script(workdir: Path, **settings: str) -> Path:
    """deploy/bin/helpdesk-kiosk-session, reading its settings from a file in `workdir`."""
    conf = workdir / "session.conf"
    conf.write_text("".join(f"{k}={v}\n" for k, v in settings.items()), encoding="utf-8")
    text = (DEPLOY / "bin" / "helpdesk-kiosk-session").read_text(encoding="utf-8")
    assert text.count("CONF=/etc/helpdesk-kiosk/session.conf\n") == 1
    script = workdir / "helpdesk-kiosk-session"
    script.write_text(text.replace("CONF=/etc/helpdesk-kiosk/session.conf\n", f"CONF={conf}\n"),
                      encoding="utf-8")
    script.chmod(0o755)
    return script


def shared_demo(workdir: Path) -> tuple[Path, Path]:
    """A demo database and the policy file that opens it: (policy, database)."""
    from kiosk.ssh.command import build_shared_demo

    policy = build_shared_demo(workdir)
    return policy, workdir / "demo.db"


def audit_terminals(db: Path, username: str) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {t for (t,) in conn.execute(
            "SELECT DISTINCT terminal FROM audit_events WHERE username = ?", (username,))}


def through_tunnel(port: int) -> bytes:
    """What comes out of a local forward (`ssh -N -L port:...`) that should have been refused.

    Waits until the client listens (it does once it has signed in), then reads until the
    client closes the connection, which it does when the server has refused the channel (its
    "administratively prohibited" is on stderr by then), or until the SSH banner a working
    tunnel would bring."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            sock = socket.create_connection((HOST, port), timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    data = b""
    with sock:
        sock.settimeout(WAIT)
        try:
            while not data.startswith(b"SSH-"):
                chunk = sock.recv(100)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    return data


def pids_with(text: str) -> list[int]:
    """Processes whose command line contains `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children, ...): a test's own processes, not
    those of other test runs on the same machine."""
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found
