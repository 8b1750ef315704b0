"""`kiosk admin audit export` and `kiosk admin report`: the audit log over a period."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kiosk.cli.options import Failure, engine_options

if TYPE_CHECKING:
    from kiosk.engine.admin import Admin


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


@click.group("audit")
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
def audit_export(admin: Admin, since: datetime, until: datetime | None, fmt: str,
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
            count = write(out)
        os.chmod(temp, 0o640)  # an audit log is not for every local user
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return count


# ---------------------------------------------------------------------------- report
@click.command("report")
@click.option("--since", default="30d", show_default=True, callback=_when(), metavar="WHEN",
              help=f"Start: {WHEN_HELP}.")
@click.option("--until", callback=_when(end=True), metavar="WHEN",
              help="End (exclusive; a date alone includes that day). Default: now.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@engine_options()
def report(admin: Admin, since: datetime, until: datetime | None, fmt: str) -> None:
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
