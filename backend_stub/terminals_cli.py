"""`kiosk admin terminals add|list|revoke`: the API keys of the kiosk terminals.

    kiosk admin terminals add lobby-1 --key-file /etc/kiosk/api-key   # key shown once / written
    kiosk admin terminals list
    kiosk admin terminals revoke 2yhjmx2arj

Each command takes --policy FILE (env KIOSK_POLICY, else ./kiosk.toml if present) and
--database-url URL (env KIOSK_DATABASE_URL), like the rest of `kiosk admin`. A revoked key is
refused by every API instance at its next request.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_POLICY_FILE = "kiosk.toml"


def _open_store(policy_file: Path | None, database_url: str | None,  # type: ignore[no-untyped-def]
                create: bool = False):
    from sqlalchemy.engine import make_url

    from backend_stub.server import startup_lock
    from kiosk.engine.config import PolicyError, load_policy
    from kiosk.engine.db import create_db_engine, migrate
    from kiosk.engine.terminals import TerminalStore

    if policy_file is None and Path(DEFAULT_POLICY_FILE).is_file():
        policy_file = Path(DEFAULT_POLICY_FILE)
    try:
        policy = load_policy(policy_file)
    except PolicyError as exc:
        raise click.ClickException("policy: " + "; ".join(exc.problems)) from None
    url = database_url or policy.database.url
    try:
        parsed = make_url(url)
    except Exception:
        raise click.ClickException(f"{url!r} is not a database URL") from None
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    created = False
    if file not in (None, "", ":memory:") and not Path(str(file)).exists():
        if not create:
            raise click.ClickException(
                f"no database at {file} (check --database-url / --policy; `kiosk admin "
                "terminals add NAME` or `kiosk admin users import FILE` create one)")
        if not Path(str(file)).parent.is_dir():
            raise click.ClickException(f"cannot create the database {file}: no directory "
                                       f"{Path(str(file)).parent}")
        created = True
    db = create_db_engine(url)
    with startup_lock(db):
        migrate(db)
    if created:
        click.echo(f"created the database {file} (its users: `kiosk admin users import FILE` "
                   "or `kiosk admin users add NAME`)", err=True)
    return TerminalStore(db)


def store_options(f: F, *, create: bool = False) -> F:
    """Add --policy and --database-url; the command gets the TerminalStore. With `create`, a
    SQLite database that does not exist yet is made (the first terminal of a new install)."""
    @functools.wraps(f)
    def wrapper(*args: Any, policy_file: Path | None, database_url: str | None,
                **kwargs: Any) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        store = _open_store(policy_file, database_url, create=create)
        try:
            return f(store, *args, **kwargs)
        except SQLAlchemyError as exc:
            raise click.ClickException(f"database: {type(exc).__name__}") from None
        finally:
            store.db.dispose()

    wrapper = click.option(
        "--database-url", metavar="URL", envvar="KIOSK_DATABASE_URL",
        help="Database to use instead of the policy's [database] url "
             "(env KIOSK_DATABASE_URL).")(wrapper)
    wrapper = click.option(
        "--policy", "policy_file", metavar="FILE", envvar="KIOSK_POLICY",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Policy file (default: env KIOSK_POLICY, else ./kiosk.toml if present).")(wrapper)
    return wrapper  # type: ignore[return-value]


@click.group("terminals")
def terminals() -> None:
    """API keys of the kiosk terminals that use the HTTP API."""


@terminals.command("add")
@click.argument("name")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the key to this file (mode 600) instead of printing it.")
@functools.partial(store_options, create=True)
def add(store: Any, name: str, key_file: Path | None) -> None:
    """Create a terminal and its API key. The key is shown (or written) once: only its hash
    is kept. Give it to the kiosk as `kiosk run --remote URL --api-key-file FILE`."""
    from backend_stub.server import write_secret_file
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
@store_options
def list_(store: Any, include_revoked: bool, fmt: str) -> None:
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
@store_options
def revoke(store: Any, key_id: str) -> None:
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
