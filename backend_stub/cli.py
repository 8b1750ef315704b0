"""`kiosk serve-api` (also `python -m backend_stub`): serve the HTTP API with uvicorn.

    kiosk serve-api --policy /etc/kiosk/policy.toml --host 0.0.0.0 --port 8443 \\
        --tls-cert /etc/kiosk/tls.crt --tls-key /etc/kiosk/tls.key \\
        --admin-token-file /etc/kiosk/admin-token
    kiosk serve-api --demo            # demo users on a throwaway database; prints a key

The database is the policy's `database.url` unless `--database-url` (or KIOSK_DATABASE_URL)
says otherwise; several instances may share one PostgreSQL database.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
import sys

import click

from kiosk.engine.config import PolicyError


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve-api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
              envvar="KIOSK_POLICY", help="Policy file (TOML). [env: KIOSK_POLICY]")
@click.option("--database-url", envvar="KIOSK_DATABASE_URL",
              help="sqlite:///PATH or postgresql://USER@HOST/DB; overrides the policy's "
                   "database.url. [env: KIOSK_DATABASE_URL]")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False),
              help="TLS certificate chain (PEM).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False),
              help="TLS private key (PEM).")
@click.option("--admin-token-file", type=click.Path(exists=True, dir_okay=False),
              help="File holding the token for /v1/admin (else KIOSK_ADMIN_TOKEN; without "
                   "either the admin endpoints refuse everyone, except in --demo).")
@click.option("--demo", is_flag=True,
              help="Demo mode: the demo users (seeded into an empty database), the outbox "
                   "endpoint, and a fresh terminal key printed at start.")
@click.option("--demo-key-file", type=click.Path(dir_okay=False, writable=True),
              help="With --demo: also write the terminal key to this file (mode 600), for "
                   "`kiosk run --remote URL --api-key-file FILE`.")
@click.option("--max-body", default=16 * 1024, show_default=True,
              type=click.IntRange(1024, 1024 * 1024), help="Largest request body (bytes).")
@click.option("--password-workers", type=click.IntRange(0, 64), default=None,
              help="Processes that check passwords, so that one kiosk's paste never holds up "
                   "another's check (they share no GIL); 0 checks in the server's own "
                   "process. [default: one per core]")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve_api(host: str, port: int, policy_file: str | None, database_url: str | None,
              tls_cert: str | None, tls_key: str | None, admin_token_file: str | None,
              demo: bool, demo_key_file: str | None, max_body: int,
              password_workers: int | None, log_level: str) -> None:
    """Serve the HTTP API (backend_stub) with uvicorn."""
    import os

    import uvicorn

    from backend_stub.app import create_app
    from backend_stub.server import open_engine, read_secret_file, server_policy, write_secret_file
    from kiosk.engine import password_workers as checkers
    from kiosk.engine.terminals import TerminalStore

    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if demo_key_file and not demo:
        raise click.UsageError("--demo-key-file needs --demo")
    if not tls_cert and not _loopback(host):
        click.echo(f"warning: serving plain HTTP on {host}; API keys cross the network in "
                   "clear text (use --tls-cert/--tls-key or a TLS proxy)", err=True)
    try:
        policy = server_policy(policy_file, database_url, demo)
    except PolicyError as exc:
        raise click.ClickException("invalid policy:\n  " + "\n  ".join(exc.problems)) from None

    admin_token = os.environ.get("KIOSK_ADMIN_TOKEN") or None
    if admin_token_file:
        try:
            admin_token = read_secret_file(admin_token_file)
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"admin token: {exc}") from None

    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        engine = open_engine(policy)
    except Exception as exc:  # the database is unreachable, the URL is wrong, ...
        raise click.ClickException(f"cannot open the database: {exc}") from None
    if policy_file:  # an edited policy applies from the next flow (kiosk/engine/reload.py)
        engine.watch_policy(policy_file, lambda: server_policy(policy_file, database_url, demo))

    checkers.start(password_workers)  # before listening: the first check finds them ready
    try:
        sock = _listen(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    port = sock.getsockname()[1]  # the real one when --port 0
    scheme = "https" if tls_cert else "http"
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Helpdesk Kiosk API on {scheme}://{shown}:{port}  "
               f"(database: {engine.db.dialect.name}{', demo mode' if demo else ''})", err=True)
    if demo:
        store = TerminalStore(engine.db, engine.clock)
        # one key per demo instance (several may share a database): replace only our own
        name = f"demo {socket.gethostname()}:{port or f'pid{os.getpid()}'}"[:100]
        for old in store.list(include_revoked=False):
            if old.name == name:
                store.revoke(old.id)
        terminal, key = store.create(name)
        click.echo(f"demo terminal key ({terminal.identity}): {key}", err=True)
        if demo_key_file:
            write_secret_file(demo_key_file, key)
            click.echo(f"  written to {demo_key_file}", err=True)
        if admin_token is None:
            admin_token = "adm_" + secrets.token_urlsafe(24)
            click.echo(f"demo admin token: {admin_token}", err=True)
    elif admin_token is None:
        click.echo("note: no admin token configured; /v1/admin refuses every request", err=True)
    sys.stderr.flush()

    app = create_app(engine, admin_token, max_body=max_body)
    config = uvicorn.Config(app, host=host, port=port, ssl_certfile=tls_cert,
                            ssl_keyfile=tls_key, log_level=log_level, server_header=False,
                            proxy_headers=False, timeout_graceful_shutdown=10,
                            # longer than the kiosks keep idle connections (kiosk.adapters.remote):
                            # the client closes first, so it never sends on a closing connection
                            timeout_keep_alive=75)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        checkers.stop()


def _listen(host: str, port: int) -> socket.socket:
    """Bind before uvicorn starts, so the banner shows the real port (also for --port 0)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
