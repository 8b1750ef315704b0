"""The `kiosk` command. Each subcommand is imported only when it runs, so `kiosk demo` does
not pay for the admin core's or the API server's imports (start-up time is benchmarked).

    kiosk/cli/__init__.py   `kiosk` and its lazy subcommands (this module)
    kiosk/cli/admin.py      `kiosk admin`: the group, its error lines and exit codes
    kiosk/cli/options.py    --policy / --database-url for every admin command that opens data
    kiosk/cli/users.py, groups.py (and policy), audit.py (and report), keys.py, terminals.py,
    throttle.py, demo.py, desk.py (case, pass)    one module per `kiosk admin` command group
    kiosk/cli/console.py    `kiosk console`: the helpdesk console
"""

from __future__ import annotations

from collections.abc import Callable

import click

OWN_PACKAGES = ("kiosk", "backend_stub")


def _demo() -> click.Command:
    from kiosk.ui_commands import demo

    return demo


def _run() -> click.Command:
    from kiosk.ui_commands import run

    return run


def _admin() -> click.Command:
    from kiosk.cli.admin import admin

    return admin


def _serve_api() -> click.Command:
    from backend_stub.cli import serve_api

    return serve_api


def _console() -> click.Command:
    from kiosk.cli.console import console

    return console


def _serve_ssh() -> click.Command:
    from kiosk.ssh.command import serve_ssh

    return serve_ssh


# name -> (the function that imports the command, its one-line help)
SUBCOMMANDS: dict[str, tuple[Callable[[], click.Command], str]] = {
    "demo": (_demo, "Open the kiosk on a throwaway demo database."),
    "run": (_run, "Run the kiosk on the configured database or API."),
    "admin": (_admin, "Operator commands: users, groups, policy, audit."),
    "serve-api": (_serve_api, "Serve the HTTP API (backend_stub)."),
    "serve-ssh": (_serve_ssh, "Serve the kiosk over SSH."),
    "console": (_console, "The helpdesk console (cases, passes, board, policy, reports)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        load, help_text = target
        try:
            return load()
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] not in OWN_PACKAGES:
                raise  # a missing dependency is an error, not a smaller build
            return _unavailable(cmd_name, help_text)


def _unavailable(name: str, help_text: str) -> click.Command:
    @click.command(name=name, help=help_text + " (not available in this build)")
    def missing() -> None:
        raise click.ClickException(f"'kiosk {name}' is not available in this build")

    return missing


@click.group(cls=LazyGroup, help="Helpdesk Kiosk: self-service password reset.")
@click.version_option(package_name="helpdesk-kiosk")
def main() -> None:
    pass
