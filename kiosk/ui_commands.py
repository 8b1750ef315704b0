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
from typing import TYPE_CHECKING, Any, TextIO

from kiosk.backend import LANGUAGES, THEMES, Backend, Branding, as_backend
from kiosk.terminal_modes import TERMINAL_RESTORE

if TYPE_CHECKING:
    from kiosk.adapters.deferred import Build

if TYPE_CHECKING:
    from kiosk.engine.config import Policy
    from kiosk.operator_guard import OperatorExit

log = logging.getLogger("kiosk.ui")

# the click commands `run` and `demo` are in kiosk.ui_click: `kiosk run` and `kiosk demo`
# start without click (kiosk.cli.main), which is loaded for --help and errors


class StartError(Exception):
    """Why `kiosk run` cannot start (said by click as an error, or a usage error)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.message, self.usage = message, usage


def _default_log_path() -> Path:
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    path = state / "helpdesk-kiosk" / "kiosk.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _lock_terminal_signals() -> None:
    """Textual switches off ISIG (ctrl+c, ctrl+z, ctrl+\\ arrive as keys) unless this is set."""
    os.environ.pop("TEXTUAL_ALLOW_SIGNALS", None)


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
    built = getattr(backend, "built", None)  # a DeferredBackend: the backend it made, if any
    backend = (built() if callable(built) else None) or backend
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
    branding: Branding | None = None,
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
                       demo_quit=demo_quit, branding=branding)
        try:
            result = app.run()
        except Exception as exc:  # the driver itself failed: log and maybe retry
            app.log_exception(exc, "run")
            result = None
        note = exit_note(backend)
        if note:
            print(note, file=sys.stderr)
        if result in ("operator", "quit") or not kiosk_mode:
            if app.return_code:
                print(f"The kiosk stopped after an error; details are in {log_path}.",
                      file=sys.stderr)
            return app.return_code or 0
        now = time.monotonic()
        crashes = [t for t in crashes if now - t < 60] + [now]
        recovered = "restart" if app.return_code else None
        if len(crashes) > 5:
            time.sleep(5)  # a crash loop: do not spin the CPU, keep trying


def embedded_after_first_frame(make_engine: Callable[[], Any], terminal: str
                               ) -> tuple[Callable[[], Backend], Build[Any]]:
    """The engine built in a thread once the first frame is drawn (kiosk.adapters.deferred),
    served in-process: a backend for each run of the app, all on the one engine."""
    from kiosk.adapters.deferred import Build, DeferredBackend

    def embedded(engine: Any) -> Backend:
        from kiosk.adapters.embedded import EmbeddedBackend

        return as_backend(EmbeddedBackend(engine, terminal=terminal))

    engine = Build(make_engine)
    return (lambda: as_backend(DeferredBackend(engine, embedded))), engine


def _dispose(engine: Build[Any]) -> None:
    """Close the engine's database; a build still under way (the app was quit right after
    its first frame) is waited for first."""
    built = engine.finish(timeout=30)
    if built is not None:
        built.db.dispose()


def _remove_on_hangup(directory: Path, engine: Build[Any]) -> None:
    """A demo ends when its terminal closes (SIGHUP) or it is told to (SIGTERM): restore the
    terminal, take the throwaway database with it (once a build under way is done: it would
    write there again), then die of the signal as usual."""
    def remove() -> None:
        engine.finish(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)

    _die_cleanly_on((signal.SIGHUP, signal.SIGTERM), remove)


def start_demo(kiosk_mode: bool = False, theme: str | None = None,
               language: str | None = None, db_path: str | Path | None = None) -> None:
    """`kiosk demo` (`db_path`: keep the demo database in this file, e.g. to watch it from
    `kiosk console --db` beside it)."""
    from kiosk.engine.demo_policy import demo_branding

    with tempfile.TemporaryDirectory(prefix="kiosk-demo-") as tmp:
        directory = Path(tmp)

        def build() -> Any:
            from kiosk.engine.demo import build_demo_engine, shared_demo_engine

            # the demo shows the helpdesk's temporary access pass too (kiosk console)
            if db_path:
                return shared_demo_engine(Path(db_path), passes={"enabled": True})
            return build_demo_engine(directory, passes={"enabled": True})

        make_backend, engine = embedded_after_first_frame(build, "console:demo")
        _remove_on_hangup(directory, engine)
        code = run_kiosk(make_backend, log_path=directory / "kiosk.log", kiosk_mode=kiosk_mode,
                         theme=theme, language=language, demo_quit=not kiosk_mode,
                         branding=demo_branding())
        _dispose(engine)
    sys.exit(code)


DEFAULT_POLICY_FILE = "kiosk.toml"


def _load_policy(policy_file: str | None) -> Policy:
    """The policy (`None`: the defaults), or a StartError naming every problem in the file."""
    from kiosk.engine.config import PolicyError, load_policy

    try:
        return load_policy(policy_file)
    except PolicyError as exc:
        raise StartError("\n".join(
            f"{policy_file}: {p}" if policy_file else p for p in exc.problems)) from None


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


def start_run(policy_file: str | None = None, kiosk_mode: bool = False,
              terminal: str | None = None, log_file: str | None = None,
              operator_key: str | None = None, theme: str | None = None,
              language: str | None = None, remote: str | None = None,
              api_key_file: str | None = None) -> None:
    """`kiosk run`; a problem before the start is a StartError."""
    from kiosk.operator_guard import OperatorExit

    if not policy_file and Path(DEFAULT_POLICY_FILE).is_file():
        policy_file = DEFAULT_POLICY_FILE
    # a remote kiosk without a policy file reads none: the defaults leave every [kiosk]
    # setting empty, and the policy's models (pydantic) stay unloaded before the first frame
    policy = _load_policy(policy_file) if policy_file or not remote else None
    settings = policy.kiosk if policy is not None else None
    # the policy's [kiosk] section gives what the command line leaves out
    terminal = terminal or (settings.terminal if settings else "") or None
    remote = remote or (settings.remote_url if settings else "") or None
    api_key_file = api_key_file or (settings.api_key_file if settings else "") or None
    name = (terminal if terminal and terminal.startswith("ssh:")  # kiosk serve-ssh
            else f"console:{terminal or socket.gethostname()}")
    if remote:  # the API names the terminal by its key: api:<key id>
        from kiosk.adapters.remote_start import api_base, read_api_key

        if not api_key_file:
            raise StartError("--remote needs --api-key-file", usage=True)
        try:
            api_base(remote)
            read_api_key(api_key_file)
        except ValueError as exc:
            raise StartError(str(exc)) from None
    if not remote:
        assert policy is not None  # read above: only a remote kiosk may go without
        problem = database_problem(policy, policy_file)
        if problem:
            raise StartError(problem)
    operator = None
    key = operator_key or (settings.operator_exit_key if settings else "") or None
    hashed = (os.environ.get("KIOSK_OPERATOR_HASH")
              or (settings.operator_passphrase_hash if settings else "") or None)
    if key and hashed:
        operator = OperatorExit(key=key, passphrase_hash=hashed)
    elif key:
        raise StartError("--operator-key needs KIOSK_OPERATOR_HASH (an argon2 hash)")

    engine: Build[Any] | None = None
    branding: Branding | None = None
    if remote:  # httpx and the client load after the first frame, drawn from the last branding
        from kiosk.adapters.remote_start import (
            branding_cache_file,
            cached_branding,
            remote_after_first_frame,
        )

        cache = branding_cache_file(remote)
        branding = cached_branding(cache)
        make_backend = remote_after_first_frame(remote, api_key_file or "", cache)
    else:  # the engine (database, migrations) is built after the first frame
        from kiosk.engine.branding import policy_branding

        assert policy is not None  # read above: only a remote kiosk may go without

        def build() -> Any:
            from kiosk.engine.engine import Engine

            engine = Engine(policy)
            if policy_file:  # an edited policy applies from the next visit
                engine.watch_policy(policy_file)
            return engine

        make_backend, engine = embedded_after_first_frame(build, name)
        branding = policy_branding(policy)
    code = run_kiosk(make_backend, log_path=Path(log_file) if log_file else _default_log_path(),
                     kiosk_mode=kiosk_mode, theme=theme, language=language,
                     operator_exit=operator, branding=branding)
    if engine is not None:
        _dispose(engine)
    sys.exit(code)


# ---------------------------------------------------------------------- start without click
# The options of `kiosk demo` / `kiosk run` (kiosk.ui_click), as click checks them: "flag",
# "text", "file" (an existing file), "path" (not a directory), or the allowed values.
PLAIN_OPTIONS: dict[str, dict[str, tuple[str, str | tuple[str, ...]]]] = {
    "demo": {"--kiosk": ("kiosk_mode", "flag"), "--theme": ("theme", THEMES),
             "--language": ("language", LANGUAGES), "--db": ("db_path", "path")},
    "run": {"--policy": ("policy_file", "file"), "--kiosk": ("kiosk_mode", "flag"),
            "--terminal": ("terminal", "text"), "--log": ("log_file", "path"),
            "--operator-key": ("operator_key", "text"), "--theme": ("theme", THEMES),
            "--language": ("language", LANGUAGES), "--remote": ("remote", "text"),
            "--api-key-file": ("api_key_file", "file")},
}


def _fits(kind: str | tuple[str, ...], value: str) -> bool:
    if isinstance(kind, tuple):
        return value in kind
    if kind == "file":
        return os.path.isfile(value) and os.access(value, os.R_OK)
    if kind == "path":
        return not os.path.exists(value) or (os.path.isfile(value) and os.access(value, os.R_OK))
    return True


def plain_arguments(command: str, argv: list[str]) -> dict[str, Any] | None:
    """The arguments of `kiosk demo|run ARGV` when they are plain: known options, each once,
    with values click would accept. None otherwise (--help, a mistake): click handles those."""
    options = PLAIN_OPTIONS.get(command)
    if options is None:
        return None
    found: dict[str, Any] = {}
    args = list(argv)
    while args:
        option, equals, value = args.pop(0).partition("=")
        if option not in options:
            return None
        name, kind = options[option]
        if name in found:
            return None
        if kind == "flag":
            if equals:
                return None
            found[name] = True
            continue
        if not equals:
            if not args:
                return None
            value = args.pop(0)
        if not value or value.startswith("-") or not _fits(kind, value):
            return None
        found[name] = value
    policy = os.environ.get("KIOSK_POLICY")  # --policy's envvar, checked the same way
    if command == "run" and "policy_file" not in found and policy:
        if not _fits("file", policy):
            return None
        found["policy_file"] = policy
    return found


def start_plain(argv: list[str]) -> bool:
    """`kiosk demo` / `kiosk run` with plain arguments, started without click; False when click
    must handle `argv` (also after a StartError: click says it, the same way as always)."""
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    found = plain_arguments(command, rest)
    if found is None:
        return False
    if command == "demo":
        start_demo(**found)
        return True
    try:
        start_run(**found)
    except StartError:
        return False
    return True
