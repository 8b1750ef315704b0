"""`kiosk admin demo reset`: a fresh demo / training database and its policy file."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_DEMO_DIR = "kiosk-demo"


@click.group("demo")
def demo_group() -> None:
    """The demo / training database."""


@demo_group.command("reset")
@click.option("--directory", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_DEMO_DIR, show_default=True, envvar="KIOSK_DEMO_DIR",
              help="Where demo.db and its policy file kiosk.toml go (env KIOSK_DEMO_DIR).")
def demo_reset(directory: Path) -> None:
    """Build a fresh demo database.

    The six demo users (alice, bob, carol, dave, erin, frank) in DIRECTORY/demo.db, replacing
    an earlier one there, and DIRECTORY/kiosk.toml, the demo policy pointing at it."""
    from kiosk.engine.admin import demo_reset as reset

    database, policy_file = reset(directory)
    click.echo(f"demo database: {database}")
    click.echo(f"policy file:   {policy_file}")
    click.echo(f"try:           kiosk admin users list --policy {policy_file}")
