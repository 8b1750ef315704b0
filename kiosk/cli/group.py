"""The click group `kiosk`: its subcommands are imported only when they run (SUBCOMMANDS in
kiosk/cli/__init__.py)."""

from __future__ import annotations

import click

from kiosk.cli import SUBCOMMANDS

OWN_PACKAGES = ("kiosk", "backend_stub")


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
