"""`kiosk console`: the helpdesk console on the database (like `kiosk admin`), on a demo
database shared with `kiosk demo --db`, or on the API with the admin token."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from pathlib import Path

import click


def _token(token_file: str | None) -> str:
    if token_file:
        return Path(token_file).read_text(encoding="utf-8").strip()
    return os.environ.get("KIOSK_ADMIN_TOKEN", "").strip()


@click.command(help="The helpdesk console: cases by support code, temporary access passes, "
               "the live board.")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, envvar="KIOSK_POLICY", help="Policy file (like `kiosk admin`).")
@click.option("--database-url", default=None, envvar="KIOSK_DATABASE_URL", metavar="URL",
              help="Database instead of the policy's.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A demo database file, as `kiosk demo --db` keeps it.")
@click.option("--remote", default=None, metavar="URL", help="Use the API at URL.")
@click.option("--admin-token-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The API's admin token (with --remote; else env KIOSK_ADMIN_TOKEN).")
@click.option("--agent", default=None, metavar="NAME",
              help="Your name in the audit log (default: your login name).")
@click.option("--theme", type=click.Choice(("default", "high-contrast", "ansi")), default=None)
@click.option("--language", type=click.Choice(("en", "de")), default=None)
def console(policy_file: Path | None, database_url: str | None, db_path: Path | None,
            remote: str | None, admin_token_file: str | None, agent: str | None,
            theme: str | None, language: str | None) -> None:
    from kiosk.backend import InvalidInput, KioskError
    from kiosk.console.app import ConsoleApp
    from kiosk.console.source import AdminTokenRefused, EmbeddedDesk, RemoteDesk

    agent = agent or getpass.getuser()
    try:
        if remote:
            token = _token(admin_token_file)
            if not token:
                raise click.UsageError("--remote needs --admin-token-file or KIOSK_ADMIN_TOKEN")
            source = RemoteDesk(remote, token, agent)
            try:
                asyncio.run(source.check())
            except AdminTokenRefused as exc:
                raise click.ClickException(str(exc)) from None
            except KioskError as exc:
                reason = exc.params.get("reason", "")
                raise click.ClickException(f"{remote}: {exc.message}"
                                           + (f" ({reason})" if reason else "")) from None
            where = remote
        elif db_path is not None:
            from kiosk.engine.demo import shared_demo_engine

            source = EmbeddedDesk(shared_demo_engine(db_path, passes={"enabled": True}), agent)
            where = str(db_path)
        else:
            from kiosk.admin_cli import open_admin

            admin = open_admin(policy_file, database_url)
            source = EmbeddedDesk(admin.engine, agent)
            where = str(admin.engine.db.url.render_as_string(hide_password=True))
    except (InvalidInput, ValueError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from None
    ConsoleApp(source, theme=theme, language=language, where=where).run()
    sys.exit(0)
