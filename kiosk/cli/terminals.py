"""`kiosk admin terminals add|list|revoke`: the API keys of the kiosk terminals.

    kiosk admin terminals add lobby-1 --key-file /etc/kiosk/api-key   # key shown once / written
    kiosk admin terminals list
    kiosk admin terminals revoke 2yhjmx2arj

Each command takes --policy FILE (env KIOSK_POLICY, else ./kiosk.toml if present) and
--database-url URL (env KIOSK_DATABASE_URL), like the rest of `kiosk admin`; it needs no
server key (the API keys are kept as hashes). A revoked key is refused by every API instance
at its next request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kiosk.cli.options import store_options

if TYPE_CHECKING:
    from kiosk.engine.terminals import TerminalStore


@click.group("terminals")
def terminals() -> None:
    """API keys of the kiosk terminals that use the HTTP API."""


@terminals.command("add")
@click.argument("name")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the key to this file (mode 600) instead of printing it.")
@store_options(create=True)
def add(store: TerminalStore, name: str, key_file: Path | None) -> None:
    """Create a terminal and its API key. The key is shown (or written) once: only its hash
    is kept. Give it to the kiosk as `kiosk run --remote URL --api-key-file FILE`."""
    from kiosk.engine.secret_files import write_secret_file
    from kiosk.engine.terminals import TerminalError

    try:
        terminal, key = store.create(name)
    except TerminalError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"terminal {terminal.name!r} created: key id {terminal.id} "
               f"(audit: {terminal.identity})", err=True)
    if key_file is not None:
        try:
            write_secret_file(key_file, key)
        except OSError as exc:
            store.revoke(terminal.id)
            raise click.ClickException(f"cannot write {key_file}: {exc.strerror}; "
                                       f"the new key was revoked") from None
        click.echo(f"key written to {key_file}", err=True)
    else:
        click.echo("the key (shown once; store it now):", err=True)
        click.echo(key)


@terminals.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked terminals.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@store_options()
def list_(store: TerminalStore, include_revoked: bool, fmt: str) -> None:
    """The terminals (key ids and names; never a key)."""
    rows = store.list(include_revoked=include_revoked)
    if fmt == "json":
        click.echo(json.dumps([
            {"id": t.id, "name": t.name, "identity": t.identity,
             "created_at": t.created_at.isoformat(),
             "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None}
            for t in rows], indent=2))
        return
    if not rows:
        click.echo("no terminals" + ("" if include_revoked else " (--all shows revoked ones)"))
        return
    width = max(4, *(len(t.name) for t in rows))
    click.echo(f"{'KEY ID':<12} {'NAME':<{width}} {'CREATED (UTC)':<17} STATUS")
    for t in rows:
        status = "active" if t.active else f"revoked {t.revoked_at:%Y-%m-%d %H:%M}"
        click.echo(f"{t.id:<12} {t.name:<{width}} {t.created_at:%Y-%m-%d %H:%M} {status}")


@terminals.command("revoke")
@click.argument("key_id")
@store_options()
def revoke(store: TerminalStore, key_id: str) -> None:
    """Revoke a terminal's key at once (on every API instance)."""
    from kiosk.engine.terminals import TerminalError

    try:
        was = {t.id: t for t in store.list()}.get(key_id)
        terminal = store.revoke(key_id)
    except TerminalError as exc:
        raise click.ClickException(str(exc)) from None
    if was is not None and not was.active:
        click.echo(f"terminal {terminal.name!r} ({terminal.id}) was already revoked")
    else:
        click.echo(f"terminal {terminal.name!r} ({terminal.id}) revoked")
