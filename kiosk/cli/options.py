"""What every `kiosk admin` command that opens data shares: --policy FILE and --database-url
URL, the checks before a database is opened, and the one-line `error: ...` refusals.

Only click is imported at module level: the engine is imported when a command runs."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from kiosk.engine.admin import Admin
    from kiosk.engine.config import Policy
    from kiosk.engine.terminals import TerminalStore

# a command decorator that changes the signature: the command gets what it opens first
DataOptions = Callable[[Callable[..., Any]], Callable[..., Any]]
T = TypeVar("T")
DEFAULT_POLICY_FILE = "kiosk.toml"
ADMIN_HINT = "`kiosk admin users add` or `users import` create one"


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


def failure_of(exc: Exception) -> Failure | None:
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


def policy_path(value: Path | None) -> Path | None:
    """The policy file a command reads: --policy / KIOSK_POLICY, else ./kiosk.toml if present."""
    if value is not None and str(value):
        return value
    default = Path(DEFAULT_POLICY_FILE)
    return default if default.is_file() else None


def load_admin_policy(policy_file: Path | None, database_url: str | None, *,
                      create: bool = False, hint: str = ADMIN_HINT) -> tuple[Policy, Path | None]:
    """The policy with --database-url applied, and its SQLite file when that is still to be
    made. Unless `create`, a SQLite file that does not exist is refused (a typo in a path
    should not look like an empty directory)."""
    from sqlalchemy.engine import make_url

    from kiosk.engine.config import load_policy

    policy = load_policy(policy_path(policy_file))  # a PolicyError: see failure_of
    if database_url:
        policy = policy.model_copy(
            update={"database": policy.database.model_copy(update={"url": database_url})})
    url = policy.database.url
    try:
        parsed = make_url(url)
    except Exception:
        raise Failure([f"database: {url!r} is not a database URL "
                       "(e.g. sqlite:///kiosk.db or postgresql://user@host/kiosk)"]) from None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return policy, None
    path = Path(parsed.database)
    if path.exists():
        return policy, None
    if not create:
        raise Failure([f"no database at {path} (check --database-url / --policy; {hint})"])
    if not path.parent.is_dir():
        raise Failure([f"cannot create the database {path}: no directory {path.parent}"])
    return policy, path


def open_admin(policy_file: Path | None, database_url: str | None, *,
               create: bool = False) -> Admin:
    """The Admin over the configured database."""
    from kiosk.engine.admin import Admin
    from kiosk.engine.engine import Engine

    policy, _ = load_admin_policy(policy_file, database_url, create=create)
    return Admin(Engine(policy))


def open_store(policy_file: Path | None, database_url: str | None, *,
               create: bool = False) -> TerminalStore:
    """The terminals' key store over the configured database, migrated (under the start-up
    lock other instances take). Needs no server key: the keys are hashed, not sealed."""
    from kiosk.engine.db import create_db_engine, migrate, startup_lock
    from kiosk.engine.terminals import TerminalStore

    policy, new = load_admin_policy(
        policy_file, database_url, create=create,
        hint="`kiosk admin terminals add NAME` or `kiosk admin users import FILE` create one")
    db = create_db_engine(policy.database.url)
    with startup_lock(db):
        migrate(db)
    if new:
        click.echo(f"created the database {new} (its users: `kiosk admin users "
                   "import FILE` or `kiosk admin users add NAME`)", err=True)
    return TerminalStore(db)


def _data_options(opener: Callable[..., T], close: Callable[[T], None], *,
                  create: bool) -> DataOptions:
    """Add --policy and --database-url; the command gets what `opener` opens as its first
    argument, closed when it returns."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def wrapper(*args: Any, policy_file: Path | None, database_url: str | None,
                    **kwargs: Any) -> Any:
            opened = opener(policy_file, database_url, create=create)
            try:
                return f(opened, *args, **kwargs)
            finally:
                close(opened)

        wrapper = click.option(
            "--database-url", metavar="URL", envvar="KIOSK_DATABASE_URL",
            help="Database to use instead of the policy's [database] url "
                 "(env KIOSK_DATABASE_URL).")(wrapper)
        wrapper = click.option(
            "--policy", "policy_file", metavar="FILE", envvar="KIOSK_POLICY",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Policy file (default: env KIOSK_POLICY, else ./kiosk.toml if present, "
                 "else the built-in defaults).")(wrapper)
        return wrapper

    return decorate


def engine_options(*, create: bool = False) -> DataOptions:
    """--policy and --database-url; the command gets an Admin as its first argument."""
    return _data_options(open_admin, lambda admin: admin.engine.db.dispose(), create=create)


def store_options(*, create: bool = False) -> DataOptions:
    """--policy and --database-url; the command gets the TerminalStore. With `create`, a SQLite
    database that does not exist yet is made (the first terminal of a new install)."""
    return _data_options(open_store, lambda store: store.db.dispose(), create=create)
