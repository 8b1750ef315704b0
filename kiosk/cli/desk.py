"""`kiosk admin case` and `kiosk admin pass`: the helpdesk console's lookups and passes from
the command line (the same engine calls as the console: kiosk.engine.helpdesk).

    kiosk admin case ABCD-EFGH            the visit: timeline, blocks (records contacted_admin)
    kiosk admin case ABCD-EFGH --lift "ID checked in person"
    kiosk admin case --user alice         the user's visits
    kiosk admin pass issue erin [--minutes 60] [--reusable] [--terminal NAME]
    kiosk admin pass show erin | kiosk admin pass revoke erin --reason "..."
"""

from __future__ import annotations

import getpass
import json
from typing import TYPE_CHECKING, Any

import click

from kiosk.cli.options import Failure, engine_options

if TYPE_CHECKING:
    from kiosk.engine.admin import Admin
    from kiosk.engine.helpdesk import Helpdesk


def _agent(value: str | None) -> str:
    return value or getpass.getuser()


def _desk(admin: Admin) -> Helpdesk:
    from kiosk.engine.helpdesk import Helpdesk

    return Helpdesk(admin.engine)


def _refused(exc: Exception) -> Failure:
    return Failure([getattr(exc, "message", str(exc))])


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


agent_option = click.option("--agent", default=None, metavar="NAME",
                            help="Your name for the audit log (default: your login name).")


@click.command("case")
@click.argument("support_code", required=False)
@click.option("--user", "username", default=None, metavar="NAME", help="List a user's visits.")
@click.option("--lift", "reason", default=None, metavar="REASON",
              help="Lift the blocks that stop this visit, with this reason (audited).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@agent_option
@engine_options()
def case(admin: Admin, support_code: str | None, username: str | None, reason: str | None,
         as_json: bool, agent: str | None) -> None:
    """A visit by its support code (or a user's visits with --user): every step, method,
    result, terminal and time from the audit log, and what blocks it until when."""
    from kiosk.backend import KioskError

    if bool(support_code) == bool(username):
        raise click.UsageError("give a SUPPORT_CODE or --user NAME")
    desk = _desk(admin)
    try:
        if username:
            cases = desk.cases_of(username)
            if as_json:
                click.echo(json.dumps([c.model_dump(mode="json") for c in cases], indent=2))
                return
            for c in cases:
                click.echo(f"{c.support_code}  {_when(c.started_at)}  {c.purpose or '-':8}  "
                           f"{c.terminal}  {c.status}{'  BLOCKED' if c.blocked else ''}")
            return
        found = desk.case(support_code, _agent(agent))
        if reason is not None:
            lifted = desk.lift_case(support_code, _agent(agent), reason)
            click.echo(f"{lifted} block(s) lifted")
            return
    except KioskError as exc:
        raise _refused(exc) from None
    if as_json:
        click.echo(json.dumps(found.model_dump(mode="json"), indent=2))
        return
    click.echo(f"visit {found.support_code}: {found.username}, {found.purpose or '-'} at "
               f"{found.terminal}, {found.status} (step {found.step or '-'}), started "
               f"{_when(found.started_at)} UTC")
    for b in found.blocks:
        click.echo(f"BLOCKED: {b.scope} {b.target} ({b.reason}) until {_when(b.until)} UTC")
    for e in found.timeline:
        click.echo(f"  {_when(e.at)}  {e.activity:14} {e.result:16} {e.method:13} "
                   f"{e.terminal}  {e.detail}")


@click.group("pass")
def pass_group() -> None:
    """Temporary access passes: one proof at the kiosk, issued after an in-person check."""


@pass_group.command("issue")
@click.argument("username")
@click.option("--minutes", type=int, default=None, help="Lifetime, 10-43200 (default: policy).")
@click.option("--reusable", is_flag=True, help="May be used again until it expires.")
@click.option("--terminal", default="", help="Only valid at this terminal (e.g. console:kiosk1).")
@click.option("--length", type=int, default=None, help="8-48 characters (default: policy).")
@click.option("--two", is_flag=True, help="Counts as two proofs (policy permitting).")
@click.option("--approved-by", default="", metavar="NAME", help="The second agent (admins).")
@agent_option
@engine_options()
def pass_issue(admin: Admin, username: str, minutes: int | None, reusable: bool, terminal: str,
               length: int | None, two: bool, approved_by: str, agent: str | None) -> None:
    """Issue a pass for USERNAME and print it once."""
    from pydantic import ValidationError

    from kiosk.backend import KioskError
    from kiosk.desk import PassRequest

    try:
        request = PassRequest(username=username, lifetime_minutes=minutes,
                              one_time=False if reusable else None, terminal=terminal,
                              length=length, count_as_two=two, approved_by=approved_by)
    except ValidationError as exc:
        raise Failure([f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                       for e in exc.errors()]) from None
    try:
        issued = _desk(admin).issue_pass(_agent(agent), request)
    except KioskError as exc:
        raise _refused(exc) from None
    click.echo(f"pass for {issued.info.username}: {issued.access_pass}")
    click.echo(f"valid until {_when(issued.info.expires_at)} UTC "
               f"({'one-time' if issued.info.one_time else 'reusable'}); shown only now")


@pass_group.command("show")
@click.argument("username")
@engine_options()
def pass_show(admin: Admin, username: str) -> None:
    """The user's newest pass (never its text)."""
    from kiosk.backend import KioskError

    try:
        info = _desk(admin).pass_status(username)
    except KioskError as exc:
        raise _refused(exc) from None
    if info is None:
        click.echo(f"{username}: no pass")
        return
    click.echo(f"{info.username}: {info.state}, until {_when(info.expires_at)} UTC, issued by "
               f"{info.issued_by}, used {info.uses} time(s)"
               + (f", only at {info.terminal}" if info.terminal else ""))


@pass_group.command("revoke")
@click.argument("username")
@click.option("--reason", required=True, help="Why (audited).")
@agent_option
@engine_options()
def pass_revoke(admin: Admin, username: str, reason: str, agent: str | None) -> None:
    """End the user's active pass now."""
    from kiosk.backend import KioskError

    try:
        info = _desk(admin).revoke_pass(username, _agent(agent), reason)
    except KioskError as exc:
        raise _refused(exc) from None
    click.echo(f"{info.username}: pass {info.state}")
