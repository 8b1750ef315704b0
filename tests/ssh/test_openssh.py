"""deploy/openssh/helpdesk-kiosk.conf with the machine's own OpenSSH server: a real sshd on a
loopback port, the example's Match block applied to the user running the tests (root: sshd
needs it), the real ssh client. Without sshd or root the test skips, except in CI (CI=true)."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ssh import (
    DEPLOY,
    HOST,
    SSH_OPTS,
    WAIT,
    WELCOME,
    audit_terminals,
    cmdline,
    descendants,
    session_script,
    shared_demo,
    ssh_args,
    through_tunnel,
)
from tests.support.terminal import KIOSK, Tmux, identify

SNIPPET = DEPLOY / "openssh" / "helpdesk-kiosk.conf"


def _sshd() -> str:
    path = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
    problem = None
    if path is None:
        problem = "sshd is not installed (Debian: openssh-server)"
    elif os.geteuid() != 0:
        problem = "sshd must run as root to switch to the kiosk user"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    assert path is not None
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Sshd:
    port: int
    key: Path
    db: Path
    script: Path
    log: Path
    pid: int  # the listening sshd: the sessions are its descendants

    def ssh(self, *options: str, command: str | None = None) -> subprocess.CompletedProcess[str]:
        cmd = ["ssh", *ssh_args(self.port, "-i", str(self.key), *options, user="root")]
        if command:
            cmd.append(command)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=WAIT,
                              stdin=subprocess.DEVNULL)


@pytest.fixture
def sshd(tmp_path: Path, ssh_bin: str) -> Iterator[Sshd]:
    binary = _sshd()
    user = "root"
    policy, db = shared_demo(tmp_path / "demo")
    script = session_script(tmp_path, KIOSK_BIN=KIOSK, KIOSK_POLICY=str(policy),
                            KIOSK_LOG=str(tmp_path / "kiosk.log"), KIOSK_SSH_MAX_SECONDS="600")
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (tmp_path / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
    host_key = tmp_path / "host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)],
                   check=True)
    # the example, with only its three site-specific names changed
    text = SNIPPET.read_text(encoding="utf-8")
    for old, new in (("Match User reset", f"Match User {user}"),
                     ("/usr/local/sbin/helpdesk-kiosk-session", str(script)),
                     ("/etc/helpdesk-kiosk/authorized_keys", str(tmp_path / "authorized_keys"))):
        assert old in text
        text = text.replace(old, new)
    snippet = tmp_path / "helpdesk-kiosk.conf"
    snippet.write_text(text, encoding="utf-8")
    port = _free_port()
    config = tmp_path / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", f"ListenAddress {HOST}", f"HostKey {host_key}", "PidFile none",
        "UsePAM no", "StrictModes no",  # the test's files live under /tmp
        "PermitRootLogin prohibit-password", "Subsystem sftp internal-sftp",
        "LogLevel VERBOSE", f"Include {snippet}", ""]), encoding="utf-8")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    check = subprocess.run([binary, "-t", "-f", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    effective = subprocess.run([binary, "-T", "-f", str(config), "-C",
                                f"user={user},host=localhost,addr={HOST}"],
                               capture_output=True, text=True).stdout
    for line in (f"forcecommand {script}", "disableforwarding yes", "allowtcpforwarding no",
                 "allowagentforwarding no", "x11forwarding no", "maxsessions 1",
                 "permittunnel no", "authenticationmethods publickey"):
        assert line in effective, line
    log = tmp_path / "sshd.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([binary, "-D", "-e", "-f", str(config)], stderr=err)
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        yield Sshd(port=port, key=key, db=db, script=script, log=log, pid=proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


def test_forcecommand_lands_in_the_kiosk(sshd: Sshd, tmux: Tmux) -> None:
    # even with a command, a terminal (-t) gets the kiosk and nothing else
    ssh = shlex.join(["ssh", "-t", *ssh_args(sshd.port, "-i", str(sshd.key), user="root"),
                      "echo PWNED; id"])
    client = tmux.open("o", ssh, cols=100, rows=30, env={"TERM": "xterm-256color"}, stay="ssh")
    screen = client.wait_for(WELCOME)
    assert "PWNED" not in screen and "uid=" not in screen
    # this test's own processes: other test runs on the machine may have kiosks running too
    found = {p: argv for p in descendants(sshd.pid)
             if f"--terminal ssh:{HOST}" in " ".join(argv := cmdline(p))}
    (pid,) = [p for p, argv in found.items() if "python" in Path(argv[0]).name]
    assert "--kiosk" not in found[pid]  # one visitor per connection: it ends with it
    # KIOSK_SSH_MAX_SECONDS: the session's length is limited by timeout(1)
    assert any(argv[:4] == ["timeout", "--foreground", "--signal=HUP", "--kill-after=5"]
               for argv in found.values()), found
    identify(client, "alice")
    client.wait_for("Email a code to")
    assert audit_terminals(sshd.db, "alice") == {f"ssh:{HOST}"}
    client.kill()
    deadline = time.monotonic() + WAIT
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(
        f"/proc/{pid}/status").read_text()


def test_commands_sftp_and_forwarding_are_refused(sshd: Sshd) -> None:
    result = sshd.ssh(command="id")  # no terminal: the session script refuses
    assert result.returncode == 1
    assert "needs an interactive terminal" in result.stderr
    assert "uid=" not in result.stdout
    sftp = subprocess.run(["sftp", "-P", str(sshd.port), "-i", str(sshd.key), *SSH_OPTS,
                           f"root@{HOST}"], input="ls /\n", capture_output=True, text=True,
                          timeout=WAIT)
    assert sftp.returncode != 0
    assert "bin" not in sftp.stdout
    remote = sshd.ssh("-o", "ExitOnForwardFailure=yes", "-N", "-R", f"{_free_port()}:{HOST}:22")
    assert remote.returncode == 255
    assert "remote port forwarding failed" in remote.stderr
    local = _free_port()
    proc = subprocess.Popen(["ssh", "-p", str(sshd.port), "-i", str(sshd.key), *SSH_OPTS, "-N",
                             "-L", f"{local}:{HOST}:{sshd.port}", f"root@{HOST}"],
                            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert not through_tunnel(local).startswith(b"SSH-")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=WAIT)
    assert "administratively prohibited" in err
