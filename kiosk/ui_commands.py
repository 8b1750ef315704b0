"""`kiosk demo` and `kiosk run`: build a backend, then run KioskApp (restarting it in --kiosk
mode). This is the only UI module that imports the engine, and only to construct the backend."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from kiosk.backend import LANGUAGES, THEMES, Backend
from kiosk.backend.operations import as_backend

if TYPE_CHECKING:
    from kiosk.engine.config import Policy
    from kiosk.operator_guard import OperatorExit

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("kiosk.ui")


def _default_log_path() -> Path:
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    path = state / "helpdesk-kiosk" / "kiosk.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _lock_terminal_signals() -> None:
    """Textual switches off ISIG (ctrl+c, ctrl+z, ctrl+\\ arrive as keys) unless this is set."""
    os.environ.pop("TEXTUAL_ALLOW_SIGNALS", None)


# what Textual switches on, switched off again: mouse reporting (all modes), bracketed paste,
# focus events, the hidden cursor and, last, the alternate screen
TERMINAL_RESTORE = ("\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l"
                    "\x1b[?1004l\x1b[?25h\x1b[?1049l")
_saved_tty: list[list[Any]] = []  # the terminal's attributes before the app started


def _fileno(stream: TextIO | None) -> int:
    """sys.__stdin__ / sys.__stdout__ are None when the process was started without them."""
    if stream is None:
        raise ValueError("no such stream")
    return stream.fileno()


def _save_terminal() -> None:
    import termios

    _saved_tty.clear()
    with contextlib.suppress(OSError, ValueError, termios.error):
        _saved_tty.append(termios.tcgetattr(_fileno(sys.__stdin__)))


def restore_terminal() -> None:
    """Leave the terminal as it was, also when the app is killed (SIGTERM, SIGHUP): Textual's
    own clean-up runs only when it exits normally. Best effort: a hung-up terminal is gone."""
    import termios

    with contextlib.suppress(OSError, ValueError, AttributeError):
        if os.isatty(_fileno(sys.__stdout__)):
            os.write(_fileno(sys.__stdout__), TERMINAL_RESTORE.encode())
    if _saved_tty:
        with contextlib.suppress(OSError, ValueError, termios.error):
            termios.tcsetattr(_fileno(sys.__stdin__), termios.TCSANOW, _saved_tty[0])


def _die_cleanly_on(signums: tuple[int, ...], cleanup: Callable[[], None] | None = None) -> None:
    """On these signals: restore the terminal, clean up, then die of the signal as usual."""

    def die(signum: int, _frame: object) -> None:
        restore_terminal()
        if cleanup is not None:
            cleanup()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for signum in signums:
        signal.signal(signum, die)


def exit_note(backend: object) -> str:
    """What the operator is told at the exit about the backend (the visitor saw only "service
    unavailable"): a refused API key is not a dead server."""
    if getattr(backend, "key_refused", False):
        return (f"API key refused by {getattr(backend, 'url', 'the API')}: check the key file "
                "(--api-key-file / kiosk.api_key_file) and whether the key was revoked "
                "(`kiosk admin terminals list`).")
    return ""


def run_kiosk(
    make_backend: Callable[[], Backend],
    *,
    log_path: Path,
    kiosk_mode: bool,
    theme: str | None = None,
    language: str | None = None,
    operator_exit: OperatorExit | None = None,
    idle_timeout: float = 90.0,
    demo_quit: bool = False,
) -> int:
    """Run the app; in kiosk mode start it again whenever it exits for any reason other than
    the operator's exit. A crash never shows a traceback (KioskApp logs it without secrets)."""
    from kiosk.app import KioskApp

    _lock_terminal_signals()
    _save_terminal()
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        _die_cleanly_on((signal.SIGHUP, signal.SIGTERM))
    recovered: str | None = None
    crashes: list[float] = []
    while True:
        backend = make_backend()
        app = KioskApp(backend, theme=theme, language=language, log_path=log_path,
                       operator_exit=operator_exit, recovered_support_code=recovered,
                       idle_timeout=idle_timeout, close_backend=True,
                       demo_quit=demo_quit)
        try:
            result = app.run()
        except Exception as exc:  # the driver itself failed: log and maybe retry
            app.log_exception(exc, "run")
            result = None
        note = exit_note(backend)
        if note:
            click.echo(note, err=True)
        if result in ("operator", "quit") or not kiosk_mode:
            if app.return_code:
                click.echo(f"The kiosk stopped after an error; details are in {log_path}.",
                           err=True)
            return app.return_code or 0
        now = time.monotonic()
        crashes = [t for t in crashes if now - t < 60] + [now]
        recovered = "restart" if app.return_code else None
        if len(crashes) > 5:
            time.sleep(5)  # a crash loop: do not spin the CPU, keep trying


def _theme_option(f: F) -> F:
    return click.option("--theme", type=click.Choice(THEMES), default=None,
                        help="Override the theme of the policy file.")(f)


def _language_option(f: F) -> F:
    return click.option("--language", type=click.Choice(LANGUAGES), default=None,
                        help="The language each visitor starts in.")(f)


def _remove_on_hangup(directory: Path) -> None:
    """A demo ends when its terminal closes (SIGHUP) or it is told to (SIGTERM): restore the
    terminal, take the throwaway database with it, then die of the signal as usual."""
    _die_cleanly_on((signal.SIGHUP, signal.SIGTERM),
                    lambda: shutil.rmtree(directory, ignore_errors=True))


@click.command(help="Open the kiosk on a throwaway demo database (nothing real is touched). "
               "ctrl+q quits it (after a confirm); with --kiosk it cannot be quit.")
@click.option("--kiosk", "kiosk_mode", is_flag=True, help="Restart whenever the app exits.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Keep the demo database in this file (made and seeded when missing), e.g. "
                   "to watch it from `kiosk console --db` beside it.")
@_theme_option
@_language_option
def demo(kiosk_mode: bool, theme: str | None, language: str | None,
         db_path: Path | None = None) -> None:
    from kiosk.adapters.embedded import EmbeddedBackend
    from kiosk.engine.demo import build_demo_engine, shared_demo_engine

    with tempfile.TemporaryDirectory(prefix="kiosk-demo-") as tmp:
        directory = Path(tmp)
        _remove_on_hangup(directory)
        # the demo shows the helpdesk's temporary access pass too (kiosk console)
        engine = (shared_demo_engine(db_path, passes={"enabled": True}) if db_path
                  else build_demo_engine(directory, passes={"enabled": True}))

        def make_backend() -> Backend:
            return as_backend(EmbeddedBackend(engine, terminal="console:demo"))

        code = run_kiosk(make_backend, log_path=directory / "kiosk.log", kiosk_mode=kiosk_mode,
                         theme=theme, language=language, demo_quit=not kiosk_mode)
        engine.db.dispose()
    sys.exit(code)


DEFAULT_POLICY_FILE = "kiosk.toml"


def database_problem(policy: Policy, policy_file: str | None) -> str | None:
    """Why `kiosk run` must not start on this database, or None. Outside the demo the kiosk
    never makes up a database: an implicit ./kiosk.db would hold no users, and a missing SQLite
    file is a typo or an installation not finished, not an empty directory."""
    from sqlalchemy.engine import make_url

    if policy.demo:
        return None
    how = ("create it and its users with `kiosk admin users import FILE` or `kiosk admin users "
           "add NAME` (same --policy / KIOSK_POLICY); `kiosk demo` needs no database")
    if "url" not in policy.database.model_fields_set:
        where = f"the policy file {policy_file}" if policy_file else (
            "no policy file (--policy FILE, env KIOSK_POLICY or ./kiosk.toml)")
        return (f"database.url: no database is configured ({where}); set [database] url, e.g. "
                f'url = "sqlite:////var/lib/kiosk/kiosk.db" or a postgresql:// URL, then {how}')
    try:
        parsed = make_url(policy.database.url)
    except Exception:
        return f"database.url: {policy.database.url!r} is not a database URL"
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.exists():
            return f"database.url: no database at {path}; {how}"
    return None


@click.command(help="Run the kiosk on the database of the policy file.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
              default=None, envvar="KIOSK_POLICY",
              help="The policy file (TOML) (default: env KIOSK_POLICY, else ./kiosk.toml if "
                   "present, like `kiosk admin`).")
@click.option("--kiosk", "kiosk_mode", is_flag=True,
              help="Locked-down terminal: restart whenever the app exits or crashes.")
@click.option("--terminal", default=None,
              help="This terminal's name in the audit log (default: the host name); "
                   "ssh:<address> is kept as it is.")
@click.option("--log", "log_file", type=click.Path(dir_okay=False), default=None,
              help="Where errors are logged (never with secrets).")
@click.option("--operator-key", default=None,
              help="Key that opens the operator exit, e.g. ctrl+f12 (needs "
                   "KIOSK_OPERATOR_HASH, an argon2 hash of the passphrase).")
@_theme_option
@_language_option
@click.option("--remote", default=None, metavar="URL",
              help="Use the kiosk API at URL instead of the policy's database.")
@click.option("--api-key-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="This terminal's API key (with --remote).")
def run(policy_file: str | None, kiosk_mode: bool, terminal: str | None, log_file: str | None,
        operator_key: str | None, theme: str | None, language: str | None,
        remote: str | None = None, api_key_file: str | None = None) -> None:
    from kiosk.adapters.embedded import EmbeddedBackend
    from kiosk.engine.config import PolicyError, load_policy
    from kiosk.engine.engine import Engine
    from kiosk.operator_guard import OperatorExit

    if not policy_file and Path(DEFAULT_POLICY_FILE).is_file():
        policy_file = DEFAULT_POLICY_FILE
    try:
        policy = load_policy(policy_file)
    except PolicyError as exc:
        raise click.ClickException("\n".join(
            f"{policy_file}: {p}" if policy_file else p for p in exc.problems)) from None
    # the policy's [kiosk] section gives what the command line leaves out
    terminal = terminal or policy.kiosk.terminal or None
    remote = remote or policy.kiosk.remote_url or None
    api_key_file = api_key_file or policy.kiosk.api_key_file or None
    name = (terminal if terminal and terminal.startswith("ssh:")  # kiosk serve-ssh
            else f"console:{terminal or socket.gethostname()}")
    if remote:  # the API names the terminal by its key: api:<key id>
        from kiosk.adapters.remote import open_remote_backend, read_api_key

        if not api_key_file:
            raise click.UsageError("--remote needs --api-key-file")
        try:
            read_api_key(api_key_file)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    if not remote:
        problem = database_problem(policy, policy_file)
        if problem:
            raise click.ClickException(problem)
    engine = None if remote else Engine(policy)
    if engine is not None and policy_file:  # an edited policy applies from the next visit
        engine.watch_policy(policy_file)
    operator = None
    key = operator_key or policy.kiosk.operator_exit_key or None
    hashed = os.environ.get("KIOSK_OPERATOR_HASH") or policy.kiosk.operator_passphrase_hash or None
    if key and hashed:
        operator = OperatorExit(key=key, passphrase_hash=hashed)
    elif key:
        raise click.ClickException("--operator-key needs KIOSK_OPERATOR_HASH (an argon2 hash)")

    def make_backend() -> Backend:
        if engine is None:
            return as_backend(open_remote_backend(remote or "", api_key_file or ""))
        return as_backend(EmbeddedBackend(engine, terminal=name))

    code = run_kiosk(make_backend, log_path=Path(log_file) if log_file else _default_log_path(),
                     kiosk_mode=kiosk_mode, theme=theme, language=language,
                     operator_exit=operator)
    if engine is not None:
        engine.db.dispose()
    sys.exit(code)
