"""Never a shell: commands, subsystems (sftp, scp), forwarding and a terminal-less session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.ssh import HOST, SSH_OPTS, WAIT, Server, through_tunnel


def test_a_command_is_refused(demo_server: Server) -> None:
    before = set(demo_server.child_pids())
    result = demo_server.ssh(command="id")
    assert result.returncode == 255
    assert "exec request failed" in result.stderr
    assert "uid=" not in result.stdout
    result = demo_server.ssh("-tt", command="cat /etc/passwd")  # with a terminal too
    assert result.returncode == 255
    assert "root:" not in result.stdout
    assert set(demo_server.child_pids()) <= before
    demo_server.wait_log(r"refused a command \(exec request\)")


def test_sftp_and_scp_are_refused(demo_server: Server, tmp_path) -> None:
    if shutil.which("sftp") is None:
        pytest.skip("sftp is not installed")
    result = subprocess.run(
        ["sftp", "-P", str(demo_server.port), *SSH_OPTS, f"reset@{HOST}"], input="ls\n",
        capture_output=True, text=True, timeout=WAIT)
    assert result.returncode != 0
    assert "subsystem request failed" in result.stderr
    result = subprocess.run(
        ["scp", "-P", str(demo_server.port), *SSH_OPTS, f"reset@{HOST}:/etc/passwd",
         str(tmp_path / "passwd")], capture_output=True, text=True, timeout=WAIT)
    assert result.returncode != 0
    assert not (tmp_path / "passwd").exists()
    demo_server.wait_log(r"refused subsystem 'sftp'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def test_local_port_forwarding_is_refused(demo_server: Server) -> None:
    # a target the server could reach: its own SSH port
    local = _free_port()
    proc = subprocess.Popen(
        ["ssh", "-p", str(demo_server.port), *SSH_OPTS, "-N", "-L",
         f"{local}:{HOST}:{demo_server.port}", f"reset@{HOST}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:  # the SSH banner would come back if the tunnel worked
        assert not through_tunnel(local).startswith(b"SSH-")
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:  # a loaded machine: the client is slow to go
            proc.kill()
            _, err = proc.communicate(timeout=WAIT)
    assert "administratively prohibited" in err
    demo_server.wait_log(r"refused port forwarding to '127\.0\.0\.1':")


def test_remote_forwarding_is_refused(demo_server: Server) -> None:
    result = demo_server.ssh("-o", "ExitOnForwardFailure=yes", "-N", "-R",
                             f"{_free_port()}:{HOST}:22")
    assert result.returncode == 255
    assert "remote port forwarding failed" in result.stderr
    demo_server.wait_log(r"refused remote forwarding")


def test_agent_and_x11_forwarding_are_refused(demo_server: Server, tmp_path) -> None:
    if shutil.which("ssh-agent") is None:
        pytest.skip("ssh-agent is not installed")
    sock = str(tmp_path / "agent.sock")
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL)
    before = set(demo_server.child_pids())
    env = {**os.environ, "SSH_AUTH_SOCK": sock, "DISPLAY": ":99"}
    client = subprocess.Popen(
        ["ssh", "-p", str(demo_server.port), *SSH_OPTS, "-v", "-tt", "-A", "-X",
         "-o", "ForwardX11Trusted=yes", f"reset@{HOST}"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=env)
    try:
        deadline = time.monotonic() + WAIT
        while not set(demo_server.child_pids()) - before:
            assert time.monotonic() < deadline, demo_server.log()
            time.sleep(0.1)
        (pid,) = set(demo_server.child_pids()) - before
        # logged once the kiosk runs (exec done): before that /proc shows the server's env
        demo_server.wait_log(rf"session started: pid {pid},")
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        names = {e.partition(b"=")[0] for e in environ}
        assert not names & {b"SSH_AUTH_SOCK", b"DISPLAY", b"SSH_CONNECTION"}, names
    finally:
        client.terminate()
        _, err = client.communicate(timeout=WAIT)
        agent.terminate()
        agent.wait(5)
    assert "Requesting authentication agent forwarding" in err  # the client did ask
    assert "X11 forwarding request failed" in err


def test_a_session_without_a_terminal_is_refused(demo_server: Server) -> None:
    result = demo_server.ssh("-T")
    assert result.returncode == 1
    assert "needs an interactive terminal" in result.stdout
