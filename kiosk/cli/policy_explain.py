"""`kiosk admin policy explain --user NAME`: why a user can or cannot use self-service, which
methods would be offered and which rules apply (kiosk.engine.explain); and the policy-wide
warnings `kiosk admin policy check` prints after "valid"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kiosk.cli.options import engine_options

if TYPE_CHECKING:
    from kiosk.engine.admin import Admin


def echo_warnings(file: Path | str, policy: Any) -> None:
    """What a valid policy silently gets wrong (the exit code stays 0)."""
    from kiosk.engine.explain import policy_warnings

    for warning in policy_warnings(policy):
        click.echo(f"{file}: warning: {warning}")


@click.command("explain")
@click.option("--user", "username", required=True, metavar="NAME",
              help="The user to explain (as they sign in).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@engine_options()
def explain(admin: Admin, username: str, fmt: str) -> None:
    """Why NAME can or cannot reset, unlock, register or change, which methods are offered,
    registered and usable, and which rules apply; warns when the policy leaves administrators
    unable to reset."""
    from kiosk.engine.explain import explain as explain_user

    found = explain_user(admin.engine, username)
    if fmt == "json":
        click.echo(json.dumps(found.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(found.lines()))
    if not found.found:
        raise click.exceptions.Exit(1)
