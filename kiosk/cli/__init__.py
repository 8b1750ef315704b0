"""The `kiosk` command. Each subcommand is imported only when it runs, so `kiosk demo` does
not pay for the admin core's or the API server's imports (start-up time is benchmarked).

    kiosk/cli/__init__.py   `kiosk` and its lazy subcommands (this module)
    kiosk/cli/admin.py      `kiosk admin`: the group, its error lines and exit codes
    kiosk/cli/options.py    --policy / --database-url for every admin command that opens data
    kiosk/cli/users.py, groups.py (and policy), audit.py (and report), keys.py, terminals.py,
    throttle.py, demo.py, desk.py (case, pass)    one module per `kiosk admin` command group
    kiosk/cli/console.py    `kiosk console`: the helpdesk console
    kiosk/cli/group.py      the click group `kiosk`, made on first need

`kiosk run` and `kiosk demo` with plain arguments start without importing click at all
(kiosk.ui_commands.start_plain); --help, --version, every other command and every error go
through the click group, so they read the same as ever.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import click


def _lazy(where: str) -> Callable[[], click.Command]:
    """A function that imports the command `module:name` only when it is called."""
    module, name = where.split(":")

    def load() -> click.Command:
        return cast("click.Command", getattr(importlib.import_module(module), name))

    return load


# name -> (the function that imports the command, its one-line help)
SUBCOMMANDS: dict[str, tuple[Callable[[], click.Command], str]] = {
    "demo": (_lazy("kiosk.ui_click:demo"), "Open the kiosk on a throwaway demo database."),
    "run": (_lazy("kiosk.ui_click:run"), "Run the kiosk on the configured database or API."),
    "admin": (_lazy("kiosk.cli.admin:admin"), "Operator commands: users, groups, policy, audit."),
    "serve-api": (_lazy("backend_stub.cli:serve_api"), "Serve the HTTP API (backend_stub)."),
    "serve-ssh": (_lazy("kiosk.ssh.command:serve_ssh"), "Serve the kiosk over SSH."),
    "console": (_lazy("kiosk.cli.console:console"),
                "The helpdesk console (cases, passes, board, policy, reports)."),
}


class Main:
    """`kiosk` (the console script calls `main()`). Stands for the click group everywhere else,
    e.g. `CliRunner().invoke(main, [...])` in tests."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and sys.argv[1:2] in (["run"], ["demo"]):
            # no cyclic garbage collection before the first frame is out (KioskApp turns it
            # back on then): start-up objects live as long as the process, and collecting
            # them cost 35-45 ms of a 300 ms start
            gc.disable()
            try:
                from kiosk.ui_commands import start_plain

                if start_plain(sys.argv[1:]):
                    return None
            finally:
                gc.enable()
        return click_group()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(click_group(), name)


def click_group() -> click.Group:
    from kiosk.cli.group import main as click_main

    return click_main


main = Main()
