"""`kiosk serve-ssh` driven with the real OpenSSH client inside tmux.

Each server is a `kiosk serve-ssh` subprocess on 127.0.0.1 with a free port (--port 0, read
back from its output) and a host key in a temporary directory. Clients are `ssh` processes in
tmux sessions on a private tmux socket, read with capture-pane. Without `ssh` or `tmux` the
tests skip, except in CI (CI=true), where they fail.

What the tests drive them with is tests/support/ssh.py and tests/support/terminal.py; here
are the fixtures.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.ssh import Server, ssh_args, start_server
from tests.support.terminal import Pane, Tmux, need, private_tmux


@pytest.fixture(scope="session")
def ssh_bin() -> str:
    return need("ssh")


@pytest.fixture(scope="session")
def tmux_bin() -> str:
    return need("tmux")


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
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with private_tmux(tmp_path) as mux:
        yield mux


@pytest.fixture
def connect(tmux: Tmux) -> Callable[..., Pane]:
    counter = iter(range(1000))

    def open_client(server: Server, *, user: str = "reset", cols: int = 100, rows: int = 30,
                    extra: tuple[str, ...] = (), term: str = "xterm-256color") -> Pane:
        # the window stays after ssh exits, so its last words can be read
        return tmux.open(f"c{next(counter)}",
                         shlex.join(["ssh", *ssh_args(server.port, *extra, user=user)]),
                         cols=cols, rows=rows, env={"TERM": term}, stay="ssh")

    return open_client
