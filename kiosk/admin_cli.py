"""`kiosk admin`: the operator's command line (users, groups, policy, audit, report, demo).

A thin layer over kiosk.engine.admin and kiosk.engine.report. Exit codes scripts can rely on:

  0  done
  1  a validation problem, an unknown user / group / file, or an unexpected error
  2  a usage error (unknown option, missing argument, malformed option value): click's

Errors are one line each on stderr, starting with "error: "; never a traceback unless
`kiosk admin --debug ...` asks for one (logged to stderr).
"""

from __future__ import annotations

import errno
import functools
import importlib
import importlib.util
import io
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from kiosk.engine.admin import Admin

log = logging.getLogger("kiosk.admin")
F = TypeVar("F", bound=Callable[..., Any])

TERMINALS_MODULE = "backend_stub.terminals_cli"
# command groups in modules of their own (they use engine_options from here): name -> module
SUBCOMMANDS = {"keys": "kiosk.admin_keys", "case": "kiosk.desk_cli", "pass": "kiosk.desk_cli"}
DEFAULT_POLICY_FILE = "kiosk.toml"
DEFAULT_DEMO_DIR = "kiosk-demo"


# ---------------------------------------------------------------------------- errors
class Failure(click.ClickException):
    """A refusal shown as `error: ...` lines; exit code 1."""

    exit_code = 1

    def __init__(self, problems: Sequence[str], summary: str = "") -> None:
        super().__init__(summary or problems[0])
        self.problems = list(problems)
        self.summary = summary

    def show(self, file: Any = None) -> None:
        for line in self.problems:
            click.echo(f"error: {line}", err=True)
        if self.summary and self.summary not in self.problems:
            click.echo(f"error: {self.summary}", err=True)


def _failure(exc: Exception) -> Failure | None:
    """The Failure an expected error maps to (None: unexpected)."""
    from sqlalchemy.exc import SQLAlchemyError

    from kiosk.engine.admin import AdminError
    from kiosk.engine.config import PolicyError

    if isinstance(exc, AdminError):
        if exc.problems == [exc.message]:
            return Failure([exc.message])
        return Failure(exc.problems, exc.message)
    if isinstance(exc, PolicyError):
        return Failure([f"policy: {p}" for p in exc.problems])
    if isinstance(exc, SQLAlchemyError):
        detail = getattr(exc, "orig", None) or exc
        text = str(detail).splitlines()[0] if str(detail) else type(detail).__name__
        return Failure([f"database: {text}"])
    return None


class AdminGroup(click.Group):
    """The `kiosk admin` group: turns every error into one line and exit 1, and mounts
    `terminals` from backend_stub when that module exists."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx)) | set(SUBCOMMANDS)
        if _module_exists(TERMINALS_MODULE):
            names.add("terminals")
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "terminals" and cmd_name not in self.commands:
            return _terminals_command()
        if cmd_name in SUBCOMMANDS and cmd_name not in self.commands:
            command = getattr(importlib.import_module(SUBCOMMANDS[cmd_name]), cmd_name)
            self.add_command(command)
            return command  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # `kiosk admin users list | head`: click handles it
                raise
            raise self._unexpected(ctx, exc) from None
        except Exception as exc:
            expected = _failure(exc)
            if expected is not None:
                if ctx.meta.get("kiosk.debug"):
                    log.debug("refused", exc_info=exc)
                raise expected from None
            raise self._unexpected(ctx, exc) from None

    @staticmethod
    def _unexpected(ctx: click.Context, exc: BaseException) -> Failure:
        text = str(exc).splitlines()[0] if str(exc) else ""
        line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        if ctx.meta.get("kiosk.debug"):
            log.error("unexpected error", exc_info=exc)
            return Failure([line])
        return Failure([line + " (run `kiosk admin --debug ...` to log the details)"])


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _terminals_command() -> click.Command | None:
    """`kiosk admin terminals`, from backend_stub/terminals_cli.py when it exists."""
    try:
        module = importlib.import_module(TERMINALS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name is not None and TERMINALS_MODULE.startswith(exc.name):
            return None  # not in this build
        return _broken("terminals", exc)
    except Exception as exc:  # a broken module must not break the rest of `kiosk admin`
        return _broken("terminals", exc)
    command = getattr(module, "terminals", None)
    if not isinstance(command, click.Command):
        commands = [v for v in vars(module).values() if isinstance(v, click.Group)]
        command = commands[0] if len(commands) == 1 else None
    return command


def _broken(name: str, exc: Exception) -> click.Command:
    @click.command(name=name, help=f"(unavailable: {exc})")
    def broken() -> None:
        raise Failure([f"'kiosk admin {name}' is unavailable: {type(exc).__name__}: {exc}"])

    return broken


# ---------------------------------------------------------------------------- engine access
def _policy_path(value: Path | None) -> Path | None:
    if value is not None and str(value):
        return value
    default = Path(DEFAULT_POLICY_FILE)
    return default if default.is_file() else None


def open_admin(policy_file: Path | None, database_url: str | None, *,
               create: bool = False) -> Admin:
    """The Admin over the configured database. Unless `create`, a SQLite file that does not
    exist is refused (a typo in a path should not look like an empty directory)."""
    from sqlalchemy.engine import make_url

    from kiosk.engine.admin import Admin, NotFound
    from kiosk.engine.config import load_policy
    from kiosk.engine.engine import Engine

    policy = load_policy(_policy_path(policy_file))
    if database_url:
        policy = policy.model_copy(
            update={"database": policy.database.model_copy(update={"url": database_url})})
    url = policy.database.url
    try:
        parsed = make_url(url)
    except Exception:
        raise Failure([f"database: {url!r} is not a database URL "
                       "(e.g. sqlite:///kiosk.db or postgresql://user@host/kiosk)"]) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not create and not path.exists():
            raise NotFound(f"no database at {path} (check --database-url / --policy; "
                           "`kiosk admin users add` or `users import` create one)")
        if create and not path.parent.is_dir():
            raise NotFound(f"cannot create the database {path}: "
                           f"no directory {path.parent}")
    return Admin(Engine(policy))


def engine_options(*, create: bool = False) -> Callable[[F], F]:
    """Add --policy and --database-url; the command gets an Admin as its first argument."""

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: Any, policy_file: Path | None, database_url: str | None,
                    **kwargs: Any) -> Any:
            admin = open_admin(policy_file, database_url, create=create)
            try:
                return f(admin, *args, **kwargs)
            finally:
                admin.engine.db.dispose()

        wrapper = click.option(
            "--database-url", metavar="URL", envvar="KIOSK_DATABASE_URL",
            help="Database to use instead of the policy's [database] url "
                 "(env KIOSK_DATABASE_URL).")(wrapper)
        wrapper = click.option(
            "--policy", "policy_file", metavar="FILE", envvar="KIOSK_POLICY",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Policy file (default: env KIOSK_POLICY, else ./kiosk.toml if present, "
                 "else the built-in defaults).")(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorate


def _when(end: bool = False) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def convert(ctx: click.Context, param: click.Parameter, value: Any) -> datetime | None:
        from kiosk.engine.report import BadTime, parse_when

        if value is None:
            return None
        try:
            return parse_when(value, datetime.now(UTC), end=end)
        except BadTime as exc:
            raise click.BadParameter(str(exc)) from None

    return convert


def _period(since: datetime, until: datetime | None) -> tuple[datetime, datetime]:
    until = until or datetime.now(UTC)
    if since >= until:
        raise click.UsageError(f"--since ({since:%Y-%m-%d %H:%M} UTC) must be before --until "
                               f"({until:%Y-%m-%d %H:%M} UTC)")
    return since, until


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _status(info: Any) -> str:
    """The self-service column: ready / not registered (n of m) / not in scope / disabled."""
    from kiosk.engine.admin import NOT_REGISTERED

    text = info.sspr
    if info.sspr == NOT_REGISTERED:
        text += f" ({len(info.usable)} of {info.needed})"
    if info.blocked_until:
        text += ", blocked"
    return text


# ---------------------------------------------------------------------------- the group
@click.group(cls=AdminGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, envvar="KIOSK_DEBUG",
              help="Log tracebacks of errors to stderr (env KIOSK_DEBUG).")
@click.pass_context
def admin(ctx: click.Context, debug: bool) -> None:
    """Operator commands: users, groups, policy, audit, report, keys, demo.

    Every command that reads or changes data takes --policy FILE and --database-url URL.
    Exit codes: 0 done, 1 validation problem or not found, 2 usage error.
    """
    ctx.meta["kiosk.debug"] = debug
    if debug:
        ctx.call_on_close(_log_to_stderr())


def _log_to_stderr() -> Callable[[], None]:
    """--debug: the kiosk's log (tracebacks included) goes to stderr until the command ends;
    returns the function that undoes it."""
    logger = logging.getLogger("kiosk")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)

    return undo


# ---------------------------------------------------------------------------- users
@admin.group()
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
def users_add(admin: Any, username: str, display_name: str, given_name: str, family_name: str,
              email: str, mobile: str, office: str, groups: tuple[str, ...], is_admin: bool,
              password_stdin: bool) -> None:
    """Add one user. Email and phones become registered methods (the user confirms them at
    their next registration review)."""
    from kiosk.engine.admin import NewUser

    password = _read_password() if password_stdin else None
    info = admin.add_user(NewUser(username, display_name, given_name, family_name, email,
                                  mobile, office, groups, is_admin), password)
    click.echo(f"added user {info.username} (self-service: {_status(info)})")


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
def users_import(admin: Any, file: Path, create_groups: bool, dry_run: bool) -> None:
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
def users_list(admin: Any, fmt: str) -> None:
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
        click.echo(_table(
            ["USERNAME", "DISPLAY NAME", "ADMIN", "ENABLED", "LOCKED", "METHODS", "SELF-SERVICE"],
            [[u.username, u.display_name, _yes(u.is_admin), _yes(u.enabled), _yes(u.locked),
              ",".join(u.methods) or "-", _status(u)] for u in people]))


@users.command("show")
@click.argument("username")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@engine_options()
def users_show(admin: Any, username: str, fmt: str) -> None:
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
        ("administrator", _yes(u.is_admin)), ("enabled", _yes(u.enabled)),
        ("locked", _yes(u.locked)),
        ("password", f"set, changed {_stamp(u.password_changed_at)}" if u.password_set
         else "not set"),
        ("groups", ", ".join(u.groups) or "-"),
        ("via nested groups", ", ".join(inherited) or "-"),
        ("registered", _stamp(u.registered_at) if u.registered_at else "never confirmed"),
        ("self-service", f"{_status(u)}; needs {u.needed} method(s), "
                         f"usable: {', '.join(u.usable) or 'none'}"),
        ("blocked", f"until {_stamp(u.blocked_until)} ({u.block_reason}, support code "
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
    def command(admin: Any, username: str) -> None:
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
def users_set_admin(admin: Any, username: str, off: bool) -> None:
    """Make a user an administrator (or not, with --off). Administrators may always reset,
    always need two methods and may not use security questions."""
    info, changed = admin.set_admin(username, not off)
    role = "not an administrator" if off else "an administrator"
    click.echo(f"{info.username} is {'now' if changed else 'already'} {role} "
               f"(self-service: {_status(info)})")


@users.command("unblock")
@click.argument("username")
@engine_options()
def users_unblock(admin: Any, username: str) -> None:
    """Lift a self-service block (after too many failures) and clear the user's counters."""
    from kiosk.engine.text import normalize_username

    lifted = admin.unblock(username)
    name = normalize_username(username)
    click.echo(f"lifted the block on {name}" if lifted else
               f"{name} was not blocked (failure counters cleared)")


# ---------------------------------------------------------------------------- groups
@admin.group("groups")
def groups_group() -> None:
    """Add, nest and list groups.

    With sspr.enabled = "selected", the groups in sspr.groups and every group nested inside
    them decide who may use self-service."""


@groups_group.command("add")
@click.argument("name")
@engine_options(create=True)
def groups_add(admin: Any, name: str) -> None:
    """Add a group."""
    click.echo(f"added group {admin.add_group(name)}")


@groups_group.command("add-member")
@click.argument("group")
@click.option("--user", metavar="NAME", help="Add this user.")
@click.option("--group", "member_group", metavar="NAME",
              help="Nest this group (refused if it would make a cycle).")
@engine_options()
def groups_add_member(admin: Any, group: str, user: str | None,
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
def groups_list(admin: Any, fmt: str) -> None:
    """List groups: direct users, nested groups, everyone inside, self-service scope."""
    from kiosk.engine.admin import write_json

    found = admin.list_groups()
    if fmt == "json":
        write_json(sys.stdout, (g.to_json() for g in found))
    elif not found:
        click.echo("no groups")
    else:
        click.echo(_table(
            ["GROUP", "USERS", "NESTED GROUPS", "ALL USERS", "SSPR SCOPE"],
            [[g.name, ",".join(g.users) or "-", ",".join(g.groups) or "-",
              str(len(g.all_users)), _yes(g.in_sspr_scope)] for g in found]))


# ---------------------------------------------------------------------------- policy
@admin.group("policy")
def policy_group() -> None:
    """Check policy files."""


@policy_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def policy_check(file: Path) -> None:
    """Validate a policy file: each problem on its own line (stdout); exit 0 valid, 1 not.
    The secret files it names (SMTP password, gateway secret, LDAP bind password, server key)
    must exist and be readable by their owner only."""
    from kiosk.engine.admin import plural
    from kiosk.engine.config import PolicyError, load_policy
    from kiosk.engine.secret_files import secret_file_problems

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


# ---------------------------------------------------------------------------- audit
@admin.group("audit")
def audit_group() -> None:
    """Export the audit log."""


WHEN_HELP = ("a date (2026-01-05), a date and time (2026-01-05T09:30, UTC unless an offset "
             "is given) or a duration back from now (7d, 12h, 30m, 2w)")


@audit_group.command("export")
@click.option("--since", required=True, callback=_when(), metavar="WHEN",
              help=f"Start: {WHEN_HELP}.")
@click.option("--until", callback=_when(end=True), metavar="WHEN",
              help="End (exclusive; a date alone includes that day). Default: now.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write to FILE (replaced whole, only once complete) instead of stdout.")
@click.option("--user", metavar="NAME", help="Only this user's events.")
@engine_options()
def audit_export(admin: Any, since: datetime, until: datetime | None, fmt: str,
                 output: Path | None, user: str | None) -> None:
    """Export audit events (time, activity, result, user, terminal, method, support code,
    correlation id, detail), oldest first. The log holds no secrets; CSV cells that a
    spreadsheet would run as a formula (starting with = + - @) get a leading single quote."""
    from kiosk.engine.admin import write_csv, write_json
    from kiosk.engine.report import EXPORT_COLUMNS, audit_rows
    from kiosk.engine.text import normalize_username

    since, until = _period(since, until)
    rows = audit_rows(admin.engine, since, until,
                      normalize_username(user) if user is not None else None)

    def write(out: Any) -> int:
        if fmt == "json":
            return write_json(out, rows)
        return write_csv(out, EXPORT_COLUMNS, ([r[c] for c in EXPORT_COLUMNS] for r in rows))

    if output is None:
        write(sys.stdout)
        return
    count = _write_atomically(output, write)
    click.echo(f"exported {count} events to {output}", err=True)


def _write_atomically(path: Path, write: Callable[[io.TextIOBase], int]) -> int:
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise Failure([f"{path}: cannot write (no directory {directory})"])
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise Failure([f"{path}: cannot write ({exc.strerror})"]) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            count = write(out)  # type: ignore[arg-type]
        os.chmod(temp, 0o640)  # an audit log is not for every local user
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return count


# ---------------------------------------------------------------------------- report
@admin.command("report")
@click.option("--since", default="30d", show_default=True, callback=_when(), metavar="WHEN",
              help=f"Start: {WHEN_HELP}.")
@click.option("--until", callback=_when(end=True), metavar="WHEN",
              help="End (exclusive; a date alone includes that day). Default: now.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@engine_options()
def report(admin: Any, since: datetime, until: datetime | None, fmt: str) -> None:
    """Activity, registration coverage and blocked users.

    Events per activity type and result over the period; registration coverage (the share of
    users self-service is for that have enough methods registered); the users blocked now."""
    import json

    from kiosk.engine.report import build_report, render_report

    since, until = _period(since, until)
    result = build_report(admin, since, until)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_report(result))


# ---------------------------------------------------------------------------- throttle
@admin.group("throttle")
def throttle_group() -> None:
    """Terminals the throttle slows down or blocks (many wrong entries at one kiosk)."""


@throttle_group.command("show")
@engine_options()
def throttle_show(admin: Any) -> None:
    """Each terminal with failures past the free ones, its wait and its block."""
    from kiosk.engine.throttle import terminal_states

    engine = admin.engine
    with engine.db.connect() as conn:
        states = terminal_states(engine.throttle, conn, engine.clock.now())
    if not states:
        click.echo("no terminal is slowed down or blocked")
    for t in states:
        state = (f"blocked until {_stamp(t.blocked_until)} ({t.reason})" if t.blocked_until
                 else f"waits {t.wait_seconds} s")
        click.echo(f"{t.terminal}  {t.failures} failed verifications  {state}")


@throttle_group.command("lift")
@click.argument("terminal")
@engine_options()
def throttle_lift(admin: Any, terminal: str) -> None:
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


# ---------------------------------------------------------------------------- demo
@admin.group("demo")
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
