"""`kiosk serve-ssh`: remote staff reach the kiosk with a plain SSH client.

    kiosk serve-ssh --policy /etc/helpdesk-kiosk/policy.toml          # port 2222, user "reset"
    ssh -p 2222 reset@kiosk.example.org

Every connection gets its own `kiosk run --terminal ssh:<client address> ...` process on a
pseudo-terminal (see kiosk.ssh.server); all of them open the same database (the policy file's
`database.url`) or talk to the same API (`--remote`). With `--demo` the server builds one demo
database at start that every session shares, so a trainer sees the codes in the outbox panel.

Every option can also come from the environment: KIOSK_SSH_<OPTION>, e.g.
KIOSK_SSH_MAX_SESSIONS=10 or KIOSK_SSH_PASSPHRASE_HASH='$argon2id$...'.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import click

from kiosk.backend import LANGUAGES as LANGS
from kiosk.backend import THEMES
from kiosk.engine.toml_writer import to_toml
from kiosk.ssh.server import (
    AUTH_MODES,
    HostKeyError,
    KioskSSHService,
    ServerConfig,
    fingerprint,
    load_or_create_host_key,
)
from kiosk.ssh.session_process import LOG_ENV
from kiosk.ssh.startup_limits import StartupLimit

log = logging.getLogger("kiosk.ssh")

APP_IDLE_RESET = 90 + 15  # the app's own idle reset: 90 s and a 15 s warning
# what the server passes on to each kiosk process (never its own secrets)
CHILD_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "XDG_STATE_HOME",
                  "PYTHONPATH", "VIRTUAL_ENV", "SSL_CERT_FILE", "SSL_CERT_DIR",
                  "REQUESTS_CA_BUNDLE")


def state_dir() -> Path:
    """$STATE_DIRECTORY (systemd's StateDirectory=) or ~/.local/state/helpdesk-kiosk."""
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if state:
        return Path(state)
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "helpdesk-kiosk"


def default_host_key_path() -> Path:
    return state_dir() / "ssh_host_ed25519_key"


# ---------------------------------------------------------------------- demo database
def build_shared_demo(directory: Path) -> Path:
    """One demo database for every session; returns the policy file the sessions run with."""
    from kiosk.engine.demo import DEMO_POLICY, build_demo_engine

    engine = build_demo_engine(directory)
    url = str(engine.db.url)
    engine.db.dispose()
    data = {**DEMO_POLICY, "database": {"url": url}}
    policy = directory / "demo-policy.toml"
    policy.write_text("# the shared demo database of kiosk serve-ssh --demo\n" + to_toml(data),
                      encoding="utf-8")
    return policy


# ---------------------------------------------------------------------- the child command
def _run_options() -> set[str]:
    from kiosk.ui_click import run

    return {opt for param in run.params for opt in getattr(param, "opts", [])}


def make_child_command(*, policy: str | None, remote: str | None, api_key_file: str | None,
                       app_log: str | None, theme: str | None, language: str | None,
                       ) -> Callable[[str], Sequence[str]]:
    base = [sys.executable, "-m", "kiosk.ssh.session_process", "run"]
    extra: list[str] = []
    if policy:
        extra += ["--policy", policy]
    if remote:
        extra += ["--remote", remote, "--api-key-file", api_key_file or ""]
    if app_log:
        extra += ["--log", app_log]
    if theme:
        extra += ["--theme", theme]
    if language:
        extra += ["--language", language]

    def command(terminal: str) -> Sequence[str]:
        return [*base, "--terminal", terminal, *extra]

    return command


def _child_env(child_log: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in CHILD_ENV_KEEP if k in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    env[LOG_ENV] = child_log
    return env


def _hash_passphrase() -> None:
    from argon2 import PasswordHasher

    passphrase = click.prompt("Kiosk passphrase", hide_input=True,
                              confirmation_prompt="Repeat it")
    if len(passphrase) < 8:
        raise click.ClickException("use at least 8 characters")
    click.echo(PasswordHasher().hash(passphrase))


def _configure_logging(log_file: str | None, verbose: bool) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger("kiosk.ssh")
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    import asyncssh

    asyncssh.set_log_level(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger("asyncssh").addHandler(handlers[0])


# ---------------------------------------------------------------------- the command
@click.command(context_settings={"auto_envvar_prefix": "KIOSK_SSH", "show_default": True},
               help="Serve the kiosk over SSH: every connection gets its own kiosk process. "
                    "Every option can also be set as KIOSK_SSH_<OPTION>, e.g. "
                    "KIOSK_SSH_MAX_SESSIONS=10.")
@click.option("--host", default="", show_default="all addresses",
              help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=2222,
              help="Port to listen on (0: any free port, printed at start).")
@click.option("--host-key", "host_key_path", type=click.Path(dir_okay=False), default=None,
              show_default="$STATE_DIRECTORY or ~/.local/state/helpdesk-kiosk/"
                           "ssh_host_ed25519_key",
              help="The server's private key; made (Ed25519, mode 0600) when missing.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
              default=None, help="The policy file every session runs with (its database is "
                                 "shared by all sessions).")
@click.option("--demo", is_flag=True,
              help="One shared throwaway demo database, built at start.")
@click.option("--remote", default=None, metavar="URL",
              help="Sessions talk to the kiosk API at URL instead of a database.")
@click.option("--api-key-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="This server's terminal API key (with --remote).")
@click.option("--auth", type=click.Choice(AUTH_MODES), default="user",
              help="none: any user name gets in; user: only --user, no password; "
                   "passphrase: --user and the kiosk passphrase (keyboard-interactive).")
@click.option("--user", default="reset", help="The user name to connect with.")
@click.option("--passphrase-hash", default=None, show_default=False,
              help="argon2 hash of the kiosk passphrase (make one with --hash-passphrase).")
@click.option("--passphrase-hash-file", type=click.Path(exists=True, dir_okay=False),
              default=None, help="A file holding that hash.")
@click.option("--max-sessions", type=click.IntRange(1, 10000), default=20,
              help="Concurrent sessions (connections that have signed in).")
@click.option("--max-startups", default="10:30:100", metavar="START:RATE:FULL",
              help="Connections not signed in yet, in all (OpenSSH's MaxStartups): from START "
                   "on a new one is dropped with RATE % chance, rising to all at FULL; one "
                   "number N: at most N.")
@click.option("--per-source-max-startups", type=click.IntRange(0, 10000), default=3,
              help="Connections not signed in yet from one address (IPv6: one /64); 0: no "
                   "limit.")
@click.option("--rate-limit", type=click.IntRange(0, 10000), default=10,
              help="New connections per source address per minute (0: no limit).")
@click.option("--idle-timeout", type=click.FloatRange(min=1), default=300.0,
              help="Seconds without input before the connection is closed (keep it longer "
                   "than the app's own 105 s idle reset).")
@click.option("--max-session-length", type=click.FloatRange(min=1), default=1800.0,
              help="Seconds a connection may last in all.")
@click.option("--login-timeout", type=click.FloatRange(min=1), default=60.0,
              help="Seconds to finish signing in (confirming the host key, a passphrase).")
@click.option("--login-grace", type=click.FloatRange(min=1), default=10.0,
              help="Seconds a new connection has to get through the SSH key exchange; one that "
                   "never speaks SSH is dropped then.")
@click.option("--theme", type=click.Choice(THEMES), default=None,
              help="Override the theme of the policy file.")
@click.option("--language", type=click.Choice(LANGS), default=None,
              help="The language each visitor starts in.")
@click.option("--app-log", type=click.Path(dir_okay=False), default=None,
              show_default="the kiosk's default",
              help="Where the sessions' kiosk processes log errors.")
@click.option("--log", "log_file", type=click.Path(dir_okay=False), default=None,
              help="Also write the connection log here (it goes to stderr anyway).")
@click.option("--fork-server/--no-fork-server", default=True, show_default=True,
              help="Start sessions from one preloaded process (fork, no exec): much faster "
                   "under load and less memory; each session is still its own process. "
                   "--no-fork-server starts a new interpreter for each session.")
@click.option("--verbose", is_flag=True, help="Log the SSH protocol too.")
@click.option("--hash-passphrase", is_flag=True, envvar=None,
              help="Ask for a passphrase, print its argon2 hash and exit.")
def serve_ssh(host: str, port: int, host_key_path: str | None, policy_file: str | None,
              demo: bool, remote: str | None, api_key_file: str | None, auth: str, user: str,
              passphrase_hash: str | None, passphrase_hash_file: str | None, max_sessions: int,
              max_startups: str, per_source_max_startups: int, rate_limit: int,
              idle_timeout: float, max_session_length: float, login_timeout: float,
              login_grace: float, theme: str | None, language: str | None,
              app_log: str | None, log_file: str | None, fork_server: bool, verbose: bool,
              hash_passphrase: bool) -> None:
    if hash_passphrase:
        _hash_passphrase()
        return
    if sum(bool(x) for x in (demo, policy_file, remote)) > 1:
        raise click.UsageError("use only one of --demo, --policy and --remote")
    if remote and not api_key_file:
        raise click.UsageError("--remote needs --api-key-file")
    if remote and "--remote" not in _run_options():
        raise click.ClickException("this build's `kiosk run` has no --remote option")
    try:
        startups = StartupLimit.parse(max_startups)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-startups") from None
    if passphrase_hash_file:
        passphrase_hash = Path(passphrase_hash_file).read_text(encoding="utf-8").strip()
    if auth == "passphrase" and not passphrase_hash:
        raise click.UsageError("--auth passphrase needs --passphrase-hash-file or "
                               "KIOSK_SSH_PASSPHRASE_HASH (make one with --hash-passphrase)")
    if passphrase_hash and not passphrase_hash.startswith("$argon2"):
        raise click.UsageError("the passphrase hash must be an argon2 hash ($argon2id$...)")
    _configure_logging(log_file, verbose)
    key_path = Path(host_key_path) if host_key_path else default_host_key_path()
    try:
        key, created = load_or_create_host_key(key_path)
    except HostKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Host key {key_path}{' (new)' if created else ''}: "
               f"{key.get_algorithm()} {fingerprint(key)}")
    if idle_timeout <= APP_IDLE_RESET:
        click.echo(f"Note: --idle-timeout {idle_timeout:g} s closes idle connections before "
                   f"the kiosk's own idle reset ({APP_IDLE_RESET} s).", err=True)

    with contextlib.ExitStack() as stack:
        if demo:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kiosk-ssh-demo-")))
            click.echo("Building the shared demo database ...")
            policy_file = str(build_shared_demo(tmp))
            click.echo(f"Demo database (shared by every session): {tmp / 'demo.db'}")
            app_log = app_log or str(tmp / "kiosk.log")
        if app_log is None:
            state_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
        child_log = app_log or str(state_dir() / "kiosk.log")
        command = make_child_command(
            policy=str(Path(policy_file).resolve()) if policy_file else None, remote=remote,
            api_key_file=str(Path(api_key_file).resolve()) if api_key_file else None,
            app_log=str(Path(app_log).resolve()) if app_log else None, theme=theme,
            language=language)
        try:
            config = ServerConfig(
                child_command=command, host=host, port=port, host_key=key, auth=auth, user=user,
                passphrase_hash=passphrase_hash, max_sessions=max_sessions,
                rate_limit=rate_limit, idle_timeout=idle_timeout,
                max_session_length=max_session_length, login_timeout=login_timeout,
                login_grace=login_grace, max_startups=startups,
                per_source_max_startups=per_source_max_startups,
                child_env=_child_env(child_log), child_cwd=os.getcwd())
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        asyncio.run(_serve(config, demo=demo, fork_server=fork_server))


async def _serve(config: ServerConfig, *, demo: bool, fork_server: bool) -> None:
    forks = None
    if fork_server:
        from kiosk.ssh.fork_server import ForkServer, ForkServerError
        from kiosk.ssh.pty_child import exec_spawner

        forks = ForkServer(config.child_env, config.child_cwd)
        try:
            await forks.start()
        except (OSError, ForkServerError) as exc:
            raise click.ClickException(f"cannot start the fork server: {exc}") from None

        async def spawn(argv: Sequence[str], env: Mapping[str, str], cwd: str | None,
                        slave: int) -> tuple[int, Awaitable[int]]:
            if forks is not None and forks.alive:
                try:
                    return await forks.spawn(argv, env, cwd, slave)
                except (OSError, ForkServerError) as exc:
                    log.error("fork server: %s; starting the session without it", exc)
            return await exec_spawner(argv, env, cwd, slave)

        config.spawner = spawn
    service = KioskSSHService(config)
    try:
        await service.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on port {config.port}: {exc.strerror}") from None
    for addr, port in service.ports():
        click.echo(f"Listening on {addr} port {port}")
    mode = ("demo" if demo else "auth " + config.auth) + (", fork server" if forks else "")
    click.echo(f"Ready ({mode}, user {config.user!r}, at most {config.max_sessions} sessions). "
               f"Connect with: ssh -p {service.ports()[0][1]} {config.user}@HOST", err=False)
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping: %d connection(s) open", len(service.connections))
    await service.close()
    if forks is not None:
        await forks.close()
