"""`kiosk serve-ssh --remote`: the sessions' kiosks talk to the HTTP API, not to a database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ssh import ORG, WELCOME, Server
from tests.support.terminal import Pane, identify


@pytest.fixture
def api(tmp_path) -> Iterator[tuple[str, str, str]]:  # type: ignore[type-arg]
    from backend_stub.launch import ApiProcess

    db = tmp_path / "api.db"
    key_file = tmp_path / "api-key"
    with ApiProcess(["--demo", "--demo-key-file", str(key_file), "--database-url",
                     f"sqlite:///{db}"]) as proc:
        yield proc.url, str(key_file), str(db)


def test_sessions_use_the_remote_api(api, make_server, connect) -> None:
    url, key_file, db = api
    # a new interpreter per session: its command line is the one the server built
    server: Server = make_server("--remote", url, "--api-key-file", key_file, "--no-fork-server")
    client: Pane = connect(server)
    screen = client.wait_for(WELCOME)
    assert ORG in screen  # the branding came from the API
    identify(client, "alice")
    client.wait_for("Email a code to")
    with sqlite3.connect(db) as conn:
        terminals = {t for (t,) in conn.execute(
            "SELECT DISTINCT terminal FROM audit_events WHERE username = 'alice'")}
    # the API knows the caller by its key (DESIGN: api:<key id>)
    assert terminals and all(t.startswith("api:") for t in terminals), terminals
    argv = Path(f"/proc/{server.child_pids()[0]}/cmdline").read_bytes().split(b"\0")
    assert argv[argv.index(b"--remote") + 1] == url.encode()
    assert b"--policy" not in argv
