"""`kiosk admin groups` (add, add-member, list) and `kiosk admin policy check`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kiosk.cli.options import Failure, engine_options
from kiosk.cli.output import table, yes
from kiosk.cli.policy_explain import echo_warnings, explain

if TYPE_CHECKING:
    from kiosk.engine.admin import Admin


@click.group("groups")
def groups_group() -> None:
    """Add, nest and list groups.

    With sspr.enabled = "selected", the groups in sspr.groups and every group nested inside
    them decide who may use self-service."""


@groups_group.command("add")
@click.argument("name")
@engine_options(create=True)
def groups_add(admin: Admin, name: str) -> None:
    """Add a group."""
    click.echo(f"added group {admin.add_group(name)}")


@groups_group.command("add-member")
@click.argument("group")
@click.option("--user", metavar="NAME", help="Add this user.")
@click.option("--group", "member_group", metavar="NAME",
              help="Nest this group (refused if it would make a cycle).")
@engine_options()
def groups_add_member(admin: Admin, group: str, user: str | None,
                      member_group: str | None) -> None:
    """Add a user (--user) or a nested group (--group) to GROUP."""
    if (user is None) == (member_group is None):
        raise click.UsageError("give exactly one of --user NAME or --group NAME")
    name = admin.add_member(group, user=user, member_group=member_group)
    what = f"user {user.strip()}" if user is not None else f"group {member_group}"
    click.echo(f"added {what} to {name}")


@groups_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@engine_options()
def groups_list(admin: Admin, fmt: str) -> None:
    """List groups: direct users, nested groups, everyone inside, self-service scope."""
    from kiosk.engine.admin import write_json

    found = admin.list_groups()
    if fmt == "json":
        write_json(sys.stdout, (g.to_json() for g in found))
    elif not found:
        click.echo("no groups")
    else:
        click.echo(table(
            ["GROUP", "USERS", "NESTED GROUPS", "ALL USERS", "SSPR SCOPE"],
            [[g.name, ",".join(g.users) or "-", ",".join(g.groups) or "-",
              str(len(g.all_users)), yes(g.in_sspr_scope)] for g in found]))


# ---------------------------------------------------------------------------- policy
@click.group("policy")
def policy_group() -> None:
    """Check policy files."""


@policy_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def policy_check(file: Path) -> None:
    """Validate a policy file: each problem on its own line (stdout); exit 0 valid, 1 not.
    The secret files it names (SMTP password, gateway secret, LDAP bind password, server key)
    must exist and be readable by their owner only."""
    from kiosk.engine.admin import plural
    from kiosk.engine.admin.policy_check import secret_file_problems
    from kiosk.engine.config import PolicyError, load_policy

    try:
        policy = load_policy(file)
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(problem if problem.startswith(f"{file}:") else f"{file}: {problem}")
        raise Failure([f"{file}: {plural(len(exc.problems), 'problem')}"]) from None
    problems = secret_file_problems(policy)
    if problems:
        for problem in problems:
            click.echo(f"{file}: {problem}")
        raise Failure([f"{file}: {plural(len(problems), 'problem')}"])
    sspr = policy.sspr
    scope = f"selected groups ({', '.join(sspr.groups)})" if sspr.enabled == "selected" \
        else sspr.enabled
    click.echo(f"{file}: valid (self-service for {scope}; {sspr.methods_required} method(s) "
               f"of {', '.join(sspr.methods)})")
    echo_warnings(file, policy)


policy_group.add_command(explain)  # kiosk/cli/policy_explain.py
