"""`kiosk admin`: the operator's command line (users, groups, policy, audit, report, keys,
terminals, throttle, demo), a thin layer over kiosk.engine.admin and kiosk.engine.report.
Exit codes scripts can rely on:

  0  done
  1  a validation problem, an unknown user / group / file, or an unexpected error
  2  a usage error (unknown option, missing argument, malformed option value): click's

Errors are one line each on stderr, starting with "error: "; never a traceback unless
`kiosk admin --debug ...` asks for one (logged to stderr).
"""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from kiosk.cli.audit import audit_group, report
from kiosk.cli.demo import demo_group
from kiosk.cli.desk import case, pass_group
from kiosk.cli.groups import groups_group, policy_group
from kiosk.cli.keys import keys
from kiosk.cli.options import Failure, failure_of
from kiosk.cli.terminals import terminals
from kiosk.cli.throttle import throttle_group
from kiosk.cli.users import users

log = logging.getLogger("kiosk.admin")


class AdminGroup(click.Group):
    """The `kiosk admin` group: turns every error into one line and exit 1."""

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
            expected = failure_of(exc)
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


@click.group(cls=AdminGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, envvar="KIOSK_DEBUG",
              help="Log tracebacks of errors to stderr (env KIOSK_DEBUG).")
@click.pass_context
def admin(ctx: click.Context, debug: bool) -> None:
    """Operator commands: users, groups, policy, audit, report, keys, demo, case, pass.

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


for command in (users, groups_group, policy_group, audit_group, report, keys, terminals,
                throttle_group, demo_group, case, pass_group):
    admin.add_command(command)
