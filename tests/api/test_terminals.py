"""Terminal API keys: created once, stored as a hash, verified, revoked; and their CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kiosk.cli.terminals import terminals
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from kiosk.engine.schema import terminals as terminals_table
from kiosk.engine.terminals import KEY_RE, TerminalError, TerminalStore, key_hash


def test_a_key_is_shown_once_and_only_its_hash_is_kept(store: TerminalStore,
                                                       engine: Engine) -> None:
    terminal, key = store.create("  lobby-1 ")
    assert terminal.name == "lobby-1" and terminal.identity == f"api:{terminal.id}"
    assert KEY_RE.match(key) and key.startswith(f"hk_{terminal.id}_")
    with engine.db.connect() as conn:
        row = conn.execute(select(terminals_table)).one()
    assert row.key_hash == key_hash(key) and key not in tuple(str(v) for v in row)
    assert store.verify(key) == terminal


def test_verify_refuses_everything_else(store: TerminalStore) -> None:
    terminal, key = store.create("lobby-1")
    other_terminal, other = store.create("lobby-2")
    forged = key[:-1] + ("A" if key[-1] != "A" else "B")
    swapped = f"hk_{other_terminal.id}_{key.split('_', 2)[2]}"
    for wrong in (None, "", key + "x", forged, swapped, key.upper(), "hk_", 42, "x" * 1000):
        assert store.verify(wrong) is None
    store.revoke(terminal.id)
    assert store.verify(key) is None and store.verify(other) == other_terminal
    assert [t.id for t in store.list(include_revoked=False)] == [other_terminal.id]
    assert {t.id for t in store.list()} == {terminal.id, other_terminal.id}


def test_names_are_checked(store: TerminalStore) -> None:
    store.create("lobby")
    for bad in ("", "   ", "x" * 101, "tab\there"):
        with pytest.raises(TerminalError):
            store.create(bad)
    with pytest.raises(TerminalError, match="already"):
        store.create("lobby")
    with pytest.raises(TerminalError, match="no terminal"):
        store.revoke("nosuchkey0")


def test_revoking_twice_keeps_the_first_time(store: TerminalStore, clock: FrozenClock) -> None:
    terminal, _ = store.create("lobby")
    first = store.revoke(terminal.id).revoked_at
    clock.advance(hours=1)
    assert store.revoke(terminal.id).revoked_at == first


def test_the_cli(tmp_path: Path, engine: Engine) -> None:
    url = str(engine.db.url)
    runner = CliRunner()
    added = runner.invoke(terminals, ["add", "lobby", "--database-url", url])
    assert added.exit_code == 0, added.output
    key = added.stdout.strip()
    assert KEY_RE.match(key)
    key_file = tmp_path / "key"
    to_file = runner.invoke(terminals, ["add", "hall", "--key-file", str(key_file),
                                        "--database-url", url])
    assert to_file.exit_code == 0 and to_file.stdout == ""
    assert KEY_RE.match(key_file.read_text().strip()) and key_file.stat().st_mode & 0o077 == 0
    listed = json.loads(runner.invoke(terminals, ["list", "--format", "json",
                                                  "--database-url", url]).stdout)
    assert [t["name"] for t in listed] == ["lobby", "hall"]
    table = runner.invoke(terminals, ["list", "--database-url", url]).stdout
    assert "lobby" in table and key not in table
    revoked = runner.invoke(terminals, ["revoke", listed[0]["id"], "--database-url", url])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert "lobby" not in runner.invoke(terminals, ["list", "--database-url", url]).stdout
    assert "lobby" in runner.invoke(terminals, ["list", "--all", "--database-url", url]).stdout
    again = runner.invoke(terminals, ["add", "hall", "--database-url", url])
    assert again.exit_code == 1 and "already" in again.output
    unknown = runner.invoke(terminals, ["revoke", "nope", "--database-url", url])
    assert unknown.exit_code == 1
    missing = runner.invoke(terminals, ["list", "--database-url",
                                        f"sqlite:///{tmp_path}/typo.db"])
    assert missing.exit_code == 1 and "no database" in missing.output
    assert not (tmp_path / "typo.db").exists()
