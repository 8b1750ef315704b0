"""`kiosk console`: the helpdesk console on the database (like `kiosk admin`), on a demo
database shared with `kiosk demo --db`, or on the API with the admin token."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kiosk.backend.vocabulary import LANGUAGES, THEMES

if TYPE_CHECKING:
    from kiosk.console.reports.source import ConsoleData
    from kiosk.console.source import DeskSource


def _token(token_file: str | None) -> str:
    if token_file:
        return Path(token_file).read_text(encoding="utf-8").strip()
    return os.environ.get("KIOSK_ADMIN_TOKEN", "").strip()


def _remote(url: str, token_file: str | None, agent: str) -> tuple[DeskSource, ConsoleData]:
    """The API's desk and console data with the admin token, checked once (a terminal's key
    or an API that is down is one line, not a traceback)."""
    from kiosk.backend import KioskError
    from kiosk.console.reports.source import RemoteData
    from kiosk.console.source import AdminTokenRefused, RemoteDesk

    token = _token(token_file)
    if not token:
        raise click.UsageError("--remote needs --admin-token-file or KIOSK_ADMIN_TOKEN")
    source = RemoteDesk(url, token, agent)
    try:
        asyncio.run(source.check())
    except AdminTokenRefused as exc:
        raise click.ClickException(str(exc)) from None
    except KioskError as exc:
        reason = exc.params.get("reason", "")
        raise click.ClickException(f"{url}: {exc.message}"
                                   + (f" ({reason})" if reason else "")) from None
    return source, RemoteData(url, token)


@click.command(help="The helpdesk console: cases by support code, temporary access passes, "
               "the live board, the policy file, explain and reports.")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, envvar="KIOSK_POLICY",
              help="Policy file (like `kiosk admin`); its pages edit it.")
@click.option("--database-url", default=None, envvar="KIOSK_DATABASE_URL", metavar="URL",
              help="Database instead of the policy's.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A demo database file, as `kiosk demo --db` keeps it.")
@click.option("--remote", default=None, metavar="URL", help="Use the API at URL.")
@click.option("--admin-token-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The API's admin token (with --remote; else env KIOSK_ADMIN_TOKEN).")
@click.option("--agent", default=None, metavar="NAME",
              help="Your name in the audit log (default: your login name).")
@click.option("--export-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Where reports export their CSV.")
@click.option("--theme", type=click.Choice(THEMES), default=None)
@click.option("--language", type=click.Choice(LANGUAGES), default=None)
def console(policy_file: Path | None, database_url: str | None, db_path: Path | None,
            remote: str | None, admin_token_file: str | None, agent: str | None,
            export_dir: Path, theme: str | None, language: str | None) -> None:
    from kiosk.backend import InvalidInput
    from kiosk.console.app import ConsoleApp
    from kiosk.console.reports.source import EmbeddedData
    from kiosk.console.source import EmbeddedDesk

    agent = agent or getpass.getuser()
    try:
        if remote:
            source, data = _remote(remote, admin_token_file, agent)
            where = remote
        elif db_path is not None:
            from kiosk.engine.demo import shared_demo_engine

            engine = shared_demo_engine(db_path, passes={"enabled": True})
            source, data, where = EmbeddedDesk(engine, agent), EmbeddedData(engine), str(db_path)
        else:
            from kiosk.cli.options import open_admin, policy_path

            engine = open_admin(policy_file, database_url).engine
            policy_file = policy_path(policy_file)  # the file read, its pages edit
            if policy_file is not None:  # explain follows what the policy pages save
                engine.watch_policy(policy_file)
            source, data = EmbeddedDesk(engine, agent), EmbeddedData(engine)
            where = str(engine.db.url.render_as_string(hide_password=True))
    except (InvalidInput, ValueError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from None
    except Exception as exc:  # a broken policy file, a database that is not there: one line
        from kiosk.cli.options import failure_of

        expected = failure_of(exc)
        if expected is None:
            raise
        raise expected from None
    ConsoleApp(source, theme=theme, language=language, where=where, data=data,
               policy_file=policy_file, export_dir=export_dir).run()
    sys.exit(0)
