"""The click commands `kiosk demo` and `kiosk run`: their options, help and error messages.

`kiosk demo` and `kiosk run` start without click when their arguments are plain
(kiosk.ui_commands.start_fast); everything else (--help, a wrong option, a problem with the
policy) comes here, so the help and every error read the same either way."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk import ui_commands
from kiosk.backend.vocabulary import LANGUAGES, THEMES

__all__ = ["demo", "run"]


def _theme_option(f):  # type: ignore[no-untyped-def]
    return click.option("--theme", type=click.Choice(THEMES), default=None,
                        help="Override the theme of the policy file.")(f)


def _language_option(f):  # type: ignore[no-untyped-def]
    return click.option("--language", type=click.Choice(LANGUAGES), default=None,
                        help="The language each visitor starts in.")(f)


@click.command(help="Open the kiosk on a throwaway demo database (nothing real is touched). "
               "ctrl+q quits it (after a confirm); with --kiosk it cannot be quit.")
@click.option("--kiosk", "kiosk_mode", is_flag=True, help="Restart whenever the app exits.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Keep the demo database in this file (made and seeded when missing), e.g. "
                   "to watch it from `kiosk console --db` beside it.")
@_theme_option
@_language_option
def demo(kiosk_mode: bool, theme: str | None, language: str | None,
         db_path: Path | None = None) -> None:
    ui_commands.start_demo(kiosk_mode, theme, language, db_path)


@click.command(help="Run the kiosk on the database of the policy file.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
              default=None, envvar="KIOSK_POLICY",
              help="The policy file (TOML) (default: env KIOSK_POLICY, else ./kiosk.toml if "
                   "present, like `kiosk admin`).")
@click.option("--kiosk", "kiosk_mode", is_flag=True,
              help="Locked-down terminal: restart whenever the app exits or crashes.")
@click.option("--terminal", default=None,
              help="This terminal's name in the audit log (default: the host name); "
                   "ssh:<address> is kept as it is.")
@click.option("--log", "log_file", type=click.Path(dir_okay=False), default=None,
              help="Where errors are logged (never with secrets).")
@click.option("--operator-key", default=None,
              help="Key that opens the operator exit, e.g. ctrl+f12 (needs "
                   "KIOSK_OPERATOR_HASH, an argon2 hash of the passphrase).")
@_theme_option
@_language_option
@click.option("--remote", default=None, metavar="URL",
              help="Use the kiosk API at URL instead of the policy's database.")
@click.option("--api-key-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="This terminal's API key (with --remote).")
def run(policy_file: str | None, kiosk_mode: bool, terminal: str | None, log_file: str | None,
        operator_key: str | None, theme: str | None, language: str | None,
        remote: str | None = None, api_key_file: str | None = None) -> None:
    try:
        ui_commands.start_run(policy_file, kiosk_mode, terminal, log_file, operator_key, theme,
                              language, remote, api_key_file)
    except ui_commands.StartError as exc:
        if exc.usage:
            raise click.UsageError(exc.message) from None
        raise click.ClickException(exc.message) from None
