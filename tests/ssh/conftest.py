"""`kiosk serve-ssh` driven with the real OpenSSH client inside tmux.

Each server is a `kiosk serve-ssh` subprocess on 127.0.0.1 with a free port (--port 0, read
back from its output) and a host key in a temporary directory. Clients are `ssh` processes in
tmux sessions on a private tmux socket, read with capture-pane. Without `ssh` or `tmux` the
tests skip, except in CI (CI=true), where they fail.

What the tests drive them with is tests/support/ssh.py; here are the fixtures.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.ssh import HOST, SSH_OPTS, Client, Server, Tmux, start_server


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{tool} is not installed: scripts/services.sh installs it in CI")
        pytest.skip(f"{tool} is not installed")
    return path


@pytest.fixture(scope="session")
def ssh_bin() -> str:
    return _require("ssh")


@pytest.fixture(scope="session")
def tmux_bin() -> str:
    return _require("tmux")


@pytest.fixture
def make_server(tmp_path_factory: pytest.TempPathFactory, ssh_bin: str,
                tmux_bin: str) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def make(*args: str, **kw: object) -> Server:
        server = start_server(tmp_path_factory.mktemp("ssh-server"), *args, **kw)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory, ssh_bin: str,
                tmux_bin: str) -> Iterator[Server]:
    """One demo server per module, with limits far away."""
    server = start_server(tmp_path_factory.mktemp("ssh-demo"), "--demo", "--max-sessions", "50",
                          "--rate-limit", "0")
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["exec", "fork"])
def session_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                   ssh_bin: str, tmux_bin: str) -> Iterator[Server]:
    """A demo server that starts sessions by exec, then one with --fork-server."""
    server = start_server(tmp_path_factory.mktemp(f"ssh-{request.param}"), "--demo",
                          "--max-sessions", "50", "--rate-limit", "0",
                          "--fork-server" if request.param == "fork" else "--no-fork-server")
    server.mode = request.param
    yield server
    server.stop()


@pytest.fixture
def tmux(tmux_bin: str, tmp_path: Path) -> Iterator[Tmux]:
    mux = Tmux(tmux_bin, tmp_path)
    yield mux
    mux.kill_server()


@pytest.fixture
def connect(tmux: Tmux) -> Callable[..., Client]:
    counter = iter(range(1000))

    def open_client(server: Server, *, user: str = "reset", cols: int = 100, rows: int = 30,
                    extra: tuple[str, ...] = (), term: str = "xterm-256color") -> Client:
        name = f"c{next(counter)}"
        ssh = " ".join(["ssh", "-p", str(server.port), *SSH_OPTS, *extra, f"{user}@{HOST}"])
        # the window stays after ssh exits, so its last words can be read
        shell_cmd = f"TERM={term} {ssh}; echo \"[ssh exited $?]\"; sleep 600"
        tmux.run("new-session", "-d", "-s", name, "-x", str(cols), "-y", str(rows),
                 "sh", "-c", shell_cmd)
        return Client(tmux, name)

    return open_client
