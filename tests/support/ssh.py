"""Driving `kiosk serve-ssh` with the real OpenSSH client inside tmux (tests/ssh): the server
subprocess, tmux and its ssh clients, the deploy/ scripts, and reading /proc.

The tests wait on states (a screen only the expected step shows, a log line, the cursor in a
field), never on a fixed pause: the machine may be busy. The deadlines are generous; they only
bound a hang (`WAIT`).
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
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
WAIT = 60.0  # the outer deadline of a wait: long enough for a busy machine, it only bounds a hang
SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "ConnectTimeout=10"]


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
        cmd = ["ssh", "-p", str(self.port), *SSH_OPTS, *options, f"{user}@{HOST}"]
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


# ---------------------------------------------------------------------- tmux clients
class Tmux:
    """A private tmux server (its own socket) holding the ssh clients."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.socket = f"kiosk-ssh-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.conf = workdir / "tmux.conf"
        self.conf.write_text("set -g status off\nset -g remain-on-exit on\n", encoding="utf-8")

    def run(self, *args: str, check: bool = True) -> str:
        result = subprocess.run([self.binary, "-L", self.socket, "-f", str(self.conf), *args],
                                capture_output=True, text=True, timeout=WAIT)
        if check and result.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {result.stderr}")
        return result.stdout

    def kill_server(self) -> None:
        self.run("kill-server", check=False)


class Client:
    """One `ssh` in a tmux window."""

    def __init__(self, tmux: Tmux, name: str) -> None:
        self.tmux, self.name = tmux, name

    def screen(self) -> str:
        return self.tmux.run("capture-pane", "-p", "-t", self.name)

    def lines(self) -> list[str]:
        return self.screen().splitlines()

    def wait_for(self, text: str | Callable[[str], bool], timeout: float = WAIT) -> str:
        check = (lambda s: text in s) if isinstance(text, str) else text
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout} s for {text!r}; the screen:\n{screen}")
            time.sleep(0.15)

    def cursor(self) -> tuple[int, int]:
        """Where the terminal's cursor is (column, row): Textual puts it in the focused field."""
        out = self.tmux.run("display", "-p", "-t", self.name, "#{cursor_x} #{cursor_y}")
        x, y = out.split()
        return int(x), int(y)

    def wait_for_focus_below(self, title: str, timeout: float = WAIT) -> None:
        """Wait until the focused field is the one whose top border carries `title`: keys typed
        before the focus has moved would still go to the previous field."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            rows = [i for i, line in enumerate(lines) if title in line]
            if rows and self.cursor()[1] == rows[0] + 1:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout} s for the focus in {title!r}; cursor at "
                                     f"{self.cursor()}, the screen:\n{self.screen()}")
            time.sleep(0.1)

    def send(self, *keys: str) -> None:
        self.tmux.run("send-keys", "-t", self.name, *keys)

    def type(self, text: str) -> None:
        self.tmux.run("send-keys", "-t", self.name, "-l", text)

    def resize(self, cols: int, rows: int) -> None:
        self.tmux.run("resize-window", "-t", self.name, "-x", str(cols), "-y", str(rows))

    def size(self) -> tuple[int, int]:
        out = self.tmux.run("display", "-p", "-t", self.name, "#{window_width} #{window_height}")
        cols, rows = out.split()
        return int(cols), int(rows)

    def exited(self) -> bool:
        return "[ssh exited" in self.screen()

    def kill(self) -> None:
        self.tmux.run("kill-session", "-t", self.name, check=False)


WELCOME = "I forgot my password"
ORG = "Contoso (training)"


# ---------------------------------------------------------------------- deploy/ helpers
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KIOSK_BIN = str(Path(sys.executable).with_name("kiosk"))


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
