"""`kiosk admin users`: add, import, list, show, enable/disable, unlock, set-admin, unblock."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kiosk.cli.options import Failure, engine_options
from kiosk.cli.output import stamp, status, table, yes

if TYPE_CHECKING:
    from kiosk.engine.admin import Admin


@click.group("users")
def users() -> None:
    """Add, import, list and change users."""


@users.command("add")
@click.argument("username")
@click.option("--display-name", default="", help="Name shown on screen (default: USERNAME).")
@click.option("--given", "given_name", default="", help="Given (first) name.")
@click.option("--family", "family_name", default="", help="Family (last) name.")
@click.option("--email", default="", help="Alternate email for codes (registered at once).")
@click.option("--mobile", default="", help="Mobile phone, E.164 (+14255550100): text or call.")
@click.option("--office", default="", help="Office phone, E.164: voice call only.")
@click.option("--group", "groups", multiple=True, metavar="NAME",
              help="Put the user in this existing group (repeatable).")
@click.option("--admin", "is_admin", is_flag=True,
              help="An administrator (always eligible; needs two methods, never questions).")
@click.option("--password-stdin", is_flag=True,
              help="Read an initial password from stdin (prompted, hidden, on a terminal); "
                   "it must pass the password policy.")
@engine_options(create=True)
def users_add(admin: Admin, username: str, display_name: str, given_name: str, family_name: str,
              email: str, mobile: str, office: str, groups: tuple[str, ...], is_admin: bool,
              password_stdin: bool) -> None:
    """Add one user. Email and phones become registered methods (the user confirms them at
    their next registration review)."""
    from kiosk.engine.admin import NewUser

    password = _read_password() if password_stdin else None
    info = admin.add_user(NewUser(username, display_name, given_name, family_name, email,
                                  mobile, office, groups, is_admin), password)
    click.echo(f"added user {info.username} (self-service: {status(info)})")


def _read_password() -> str:
    stdin = sys.stdin
    if stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    line = stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    password = password[:-1] if password.endswith("\r") else password
    if not password:
        raise Failure(["--password-stdin: no password on standard input"])
    return password


@users.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@click.option("--create-groups", is_flag=True, help="Create groups the file names that do not "
              "exist yet (default: refuse them, a typo would make a new group).")
@click.option("--dry-run", is_flag=True, help="Check every row, import nothing.")
@engine_options(create=True)
def users_import(admin: Admin, file: Path, create_groups: bool, dry_run: bool) -> None:
    """Import users from a UTF-8 CSV file ('-' for stdin).

    \b
    Header (any order; only username is required):
      username,display_name,given_name,family_name,email,mobile,office,groups,admin
    groups: names separated by ';'   admin: true/false (yes/no, 1/0, empty = false)
    mobile/office: E.164 (+14255550100)   email: a valid address

    Every row is checked first; if any row is wrong, each problem is reported with its line
    number and nothing is imported (exit 1). Existing users are refused, not updated.
    """
    if str(file) == "-":
        data, source = sys.stdin.buffer.read(), "stdin"
    else:
        try:
            data, source = file.read_bytes(), str(file)
        except OSError as exc:
            raise Failure([f"{file}: cannot read ({exc.strerror})"]) from None
    result = admin.import_users(data, source, create_groups=create_groups, dry_run=dry_run)
    verb = "would import" if result.dry_run else "imported"
    click.echo(f"{verb} {len(result.users)} users from {source}")
    if result.groups_created:
        verb = "would create" if result.dry_run else "created"
        click.echo(f"{verb} groups: {', '.join(result.groups_created)}")


LIST_FIELDS = ("username", "display_name", "given_name", "family_name", "admin", "enabled",
               "locked", "groups", "methods", "sspr", "blocked_until")


@users.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@engine_options()
def users_list(admin: Admin, fmt: str) -> None:
    """List users with their flags, registered methods and self-service status."""
    from kiosk.engine.admin import write_csv, write_json

    people = admin.list_users()
    out = sys.stdout
    if fmt == "json":
        write_json(out, (u.to_json() for u in people))
    elif fmt == "csv":
        write_csv(out, LIST_FIELDS, ([
            u.username, u.display_name, u.given_name, u.family_name, str(u.is_admin).lower(),
            str(u.enabled).lower(), str(u.locked).lower(), ";".join(u.groups),
            ";".join(u.methods), u.sspr,
            u.blocked_until.isoformat(timespec="seconds") if u.blocked_until else ""]
            for u in people))
    elif not people:
        click.echo("no users")
    else:
        click.echo(table(
            ["USERNAME", "DISPLAY NAME", "ADMIN", "ENABLED", "LOCKED", "METHODS", "SELF-SERVICE"],
            [[u.username, u.display_name, yes(u.is_admin), yes(u.enabled), yes(u.locked),
              ",".join(u.methods) or "-", status(u)] for u in people]))


@users.command("show")
@click.argument("username")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@engine_options()
def users_show(admin: Admin, username: str, fmt: str) -> None:
    """Show one user: flags, groups, methods (masked; never a secret) and self-service status."""
    import json

    u = admin.show_user(username)
    if fmt == "json":
        click.echo(json.dumps(u.to_json(), ensure_ascii=False, indent=2))
        return
    inherited = [g for g in u.all_groups if g not in u.groups]
    rows = [
        ("username", u.username), ("display name", u.display_name),
        ("given name", u.given_name or "-"), ("family name", u.family_name or "-"),
        ("administrator", yes(u.is_admin)), ("enabled", yes(u.enabled)),
        ("locked", yes(u.locked)),
        ("password", f"set, changed {stamp(u.password_changed_at)}" if u.password_set
         else "not set"),
        ("groups", ", ".join(u.groups) or "-"),
        ("via nested groups", ", ".join(inherited) or "-"),
        ("registered", stamp(u.registered_at) if u.registered_at else "never confirmed"),
        ("self-service", f"{status(u)}; needs {u.needed} method(s), "
                         f"usable: {', '.join(u.usable) or 'none'}"),
        ("blocked", f"until {stamp(u.blocked_until)} ({u.block_reason}, support code "
                    f"{u.block_support_code})" if u.blocked_until else "no"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"{key:<{width}}  {value}")
    click.echo("methods" + ("" if u.methods else f"{'':<{width - 5}}none"))
    for kind, masked in u.methods.items():
        click.echo(f"  {kind:<{width - 2}}  {masked}")


def _flag_command(name: str, help_text: str, apply: Callable[[Any, str], Any],
                  done: str, already: str) -> None:
    @users.command(name, help=help_text)
    @click.argument("username")
    @engine_options()
    def command(admin: Admin, username: str) -> None:
        info, changed = apply(admin, username)
        click.echo((done if changed else already).format(user=info.username))


_flag_command("disable", "Disable a user: self-service refuses them until enabled again.",
              lambda a, u: a.set_enabled(u, False), "disabled {user}",
              "{user} was already disabled")
_flag_command("enable", "Enable a disabled user.", lambda a, u: a.set_enabled(u, True),
              "enabled {user}", "{user} was already enabled")
_flag_command("unlock", "Clear the account lock in the directory (an SSPR block is lifted "
              "with `unblock`).", lambda a, u: a.unlock(u), "unlocked {user}",
              "{user} was not locked")


@users.command("set-admin")
@click.argument("username")
@click.option("--off", is_flag=True, help="Take the administrator role away instead.")
@engine_options()
def users_set_admin(admin: Admin, username: str, off: bool) -> None:
    """Make a user an administrator (or not, with --off). Administrators may always reset,
    always need two methods and may not use security questions."""
    info, changed = admin.set_admin(username, not off)
    role = "not an administrator" if off else "an administrator"
    click.echo(f"{info.username} is {'now' if changed else 'already'} {role} "
               f"(self-service: {status(info)})")


@users.command("unblock")
@click.argument("username")
@engine_options()
def users_unblock(admin: Admin, username: str) -> None:
    """Lift a self-service block (after too many failures) and clear the user's counters."""
    from kiosk.engine.text import normalize_username

    lifted = admin.unblock(username)
    name = normalize_username(username)
    click.echo(f"lifted the block on {name}" if lifted else
               f"{name} was not blocked (failure counters cleared)")
