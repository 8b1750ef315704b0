"""`kiosk admin throttle`: terminals slowed down or blocked (show, lift)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kiosk.cli.options import engine_options
from kiosk.cli.output import stamp

if TYPE_CHECKING:
    from kiosk.engine.admin import Admin


@click.group("throttle")
def throttle_group() -> None:
    """Terminals the throttle slows down or blocks (many wrong entries at one kiosk)."""


@throttle_group.command("show")
@engine_options()
def throttle_show(admin: Admin) -> None:
    """Each terminal with failures past the free ones, its wait and its block."""
    from kiosk.engine.throttle import terminal_states

    engine = admin.engine
    with engine.db.connect() as conn:
        states = terminal_states(engine.throttle, conn, engine.clock.now())
    if not states:
        click.echo("no terminal is slowed down or blocked")
    for t in states:
        state = (f"blocked until {stamp(t.blocked_until)} ({t.reason})" if t.blocked_until
                 else f"waits {t.wait_seconds} s")
        click.echo(f"{t.terminal}  {t.failures} failed verifications  {state}")


@throttle_group.command("lift")
@click.argument("terminal")
@engine_options()
def throttle_lift(admin: Admin, terminal: str) -> None:
    """End a terminal's block and forget its failures (its waits end too); audited."""
    from kiosk.engine import audit
    from kiosk.engine.audit import Activity, AuditContext, Result
    from kiosk.engine.throttle import lift_terminal

    engine = admin.engine
    now = engine.clock.now()
    with engine.db.begin() as conn:
        lifted = lift_terminal(engine.throttle, conn, now, terminal)
        audit.record(conn, AuditContext("operator", "OPERATOR", terminal, ""), now,
                     Activity.PROGRESS, Result.SUCCEEDED, detail="terminal throttle lifted")
    click.echo(f"lifted {lifted} block(s) on {terminal}; its failures are forgotten")
