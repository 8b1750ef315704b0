"""The `kiosk` command. Subcommands live in their own modules and load only when used, so
`kiosk demo` does not pay for the API server's imports (start-up time is benchmarked)."""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command or group
SUBCOMMANDS = {
    "demo": ("kiosk.ui_commands:demo", "Open the kiosk on a throwaway demo database."),
    "run": ("kiosk.ui_commands:run", "Run the kiosk on the configured database or API."),
    "admin": ("kiosk.admin_cli:admin", "Operator commands: users, groups, policy, audit."),
    "serve-api": ("backend_stub.cli:serve_api", "Serve the HTTP API (backend_stub)."),
    "serve-ssh": ("kiosk.ssh:serve_ssh", "Serve the kiosk over SSH."),
    "console": ("kiosk.console.cli:console", "The helpdesk console (cases, passes, board)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target[0].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return _unavailable(cmd_name, target[1])
        command: click.Command = getattr(module, attr)
        return command


def _unavailable(name: str, help_text: str) -> click.Command:
    @click.command(name=name, help=help_text + " (not available in this build)")
    def missing() -> None:
        raise click.ClickException(f"'kiosk {name}' is not available in this build")

    return missing


@click.group(cls=LazyGroup, help="Helpdesk Kiosk: self-service password reset.")
@click.version_option(package_name="helpdesk-kiosk")
def main() -> None:
    pass


if __name__ == "__main__":
    main()
