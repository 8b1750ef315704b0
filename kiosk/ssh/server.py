"""The SSH server behind `kiosk serve-ssh` (asyncssh): one kiosk process per connection.

Each accepted connection may open exactly one session, which must ask for a terminal and a
shell; that starts the kiosk (`python -m kiosk.ssh.session_process run --terminal ssh:<address>
...`) on its own pseudo-terminal with the client's TERM and window size. Everything else a
client can ask of an SSH server is refused: exec requests (`ssh host command`), subsystems
(sftp), local and remote port forwarding, Unix socket and tun/tap forwarding, agent and X11
forwarding.

Limits, all per server: concurrent sessions (a slot is taken when a connection has signed in
and given back when it ends), connections not signed in yet (per source and in all, see
kiosk.ssh.startup_limits; they never hold a session slot), the login grace (time to get through
the key exchange) and the login time, new connections per source per minute, the idle time (no
input from the client; applied to the transport, so a connection that never opens a session is
dropped too), and the total session length.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ipaddress
import logging
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from kiosk.ssh.pty_child import PtyChild, Spawner, exec_spawner
from kiosk.ssh.startup_limits import StartupLimit, source_key, valid_term_type
from kiosk.terminal_modes import TERMINAL_RESTORE

log = logging.getLogger("kiosk.ssh")

AUTH_MODES = ("none", "user", "passphrase")
MAX_PASSPHRASE_TRIES = 3

# Undo what a killed full-screen app may have left switched on in the visitor's terminal
TERMINAL_RESET = TERMINAL_RESTORE.encode()


@dataclass
class ServerConfig:
    """What `kiosk serve-ssh` was asked to do (see kiosk.ssh.command for the options)."""

    child_command: Callable[[str], Sequence[str]]  # terminal identity -> argv of the kiosk
    host: str = ""
    port: int = 2222
    host_key: asyncssh.SSHKey | None = None
    auth: str = "user"
    user: str = "reset"
    passphrase_hash: str | None = None
    max_sessions: int = 20
    rate_limit: int = 10  # new connections per source address per minute; 0 = no limit
    idle_timeout: float = 300.0
    max_session_length: float = 1800.0
    login_timeout: float = 60.0
    login_grace: float = 10.0  # to get through the key exchange; then login_timeout
    max_startups: StartupLimit = field(default_factory=lambda: StartupLimit(10, 30, 100))
    per_source_max_startups: int = 3  # connections not signed in from one source; 0 = any
    child_env: dict[str, str] = field(default_factory=dict)
    child_cwd: str | None = None
    kill_grace: float = 1.0
    spawner: Spawner = exec_spawner  # how a session's process is made (see kiosk.ssh.fork_server)

    def __post_init__(self) -> None:
        if self.auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}")
        if self.auth == "passphrase" and not self.passphrase_hash:
            raise ValueError("passphrase authentication needs an argon2 hash of the passphrase")
        if self.max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        if self.rate_limit < 0:
            raise ValueError("rate_limit must be 0 (no limit) or more")
        if self.per_source_max_startups < 0:
            raise ValueError("per_source_max_startups must be 0 (no limit) or more")
        for name in ("idle_timeout", "max_session_length", "login_timeout", "login_grace"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be more than 0 seconds")


# ---------------------------------------------------------------------- host key
class HostKeyError(ValueError):
    pass


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """The server's Ed25519 key from `path`, made (mode 0600) when the file does not exist.
    Refuses a key file that others may read, as OpenSSH does."""
    from kiosk.engine.secret_files import write_private

    path = Path(path)
    if path.exists():
        mode = path.stat().st_mode
        if os.name == "posix" and mode & 0o077:
            raise HostKeyError(f"the host key {path} is accessible by others "
                               f"(mode {mode & 0o777:o}); run: chmod 600 {path}")
        try:
            return asyncssh.read_private_key(str(path)), False
        except (OSError, asyncssh.KeyImportError) as exc:
            raise HostKeyError(f"cannot read the host key {path}: {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="helpdesk-kiosk")
    # 0600 whatever the umask, whole or not at all; another server starting at once wins
    if not write_private(path, key.export_private_key("openssh")):
        return load_or_create_host_key(path)
    with contextlib.suppress(OSError):
        path.with_name(path.name + ".pub").write_bytes(key.export_public_key("openssh"))
    return key, True


def fingerprint(key: asyncssh.SSHKey) -> str:
    return key.get_fingerprint("sha256")


# ---------------------------------------------------------------------- limits
class RateLimiter:
    """At most `limit` admissions per key in any `window` seconds (sliding window)."""

    def __init__(self, limit: int, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: dict[str, collections.deque[float]] = {}

    def allow(self, key: str) -> bool:
        if self.limit <= 0:
            return True
        now = self.clock()
        if len(self._seen) > 10000:  # forget quiet addresses
            for old in [k for k, q in self._seen.items() if not q or now - q[-1] >= self.window]:
                del self._seen[old]
        times = self._seen.setdefault(key, collections.deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True

    def retry_after(self, key: str) -> float:
        times = self._seen.get(key)
        if not times:
            return 0.0
        return max(0.0, self.window - (self.clock() - times[0]))


def client_address(conn: asyncssh.SSHServerConnection) -> str:
    peer = conn.get_extra_info("peername") or ("unknown",)
    host = str(peer[0])
    with contextlib.suppress(ValueError):
        addr = ipaddress.ip_address(host.split("%", 1)[0])
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
            return str(addr.ipv4_mapped)
        return str(addr)
    return host


def _printable(text: str, limit: int = 32) -> str:
    """A client-chosen string, safe for one log line."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text[:limit])
    return repr(clean + ("…" if len(text) > limit else ""))


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def _prohibited(reason: str) -> asyncssh.ChannelOpenError:
    return asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, reason)


# ---------------------------------------------------------------------- the server
class KioskSSHService:
    """Owns the listener, the limits and every live connection."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.connections: set[KioskConnection] = set()
        self.limiter = RateLimiter(config.rate_limit)
        self.listener: asyncssh.SSHAcceptor | None = None
        self._hasher: Any = None

    @property
    def active(self) -> int:
        """Session slots in use: connections that have signed in."""
        return sum(1 for c in self.connections if c.has_slot)

    def pending(self, source: str | None = None) -> int:
        """Connections not signed in yet, from one source or in all."""
        return sum(1 for c in self.connections
                   if c.pending and (source is None or c.source == source))

    def startup_refusal(self, source: str) -> str | None:
        """Why a new connection from `source` is dropped before the handshake, if it is."""
        cfg = self.config
        cap = cfg.per_source_max_startups
        if cap and (count := self.pending(source)) >= cap:
            return f"{count} sign-ins pending from {source}"
        total = self.pending()
        if cfg.max_startups.refuse(total):
            return f"{total} sign-ins pending in all (max-startups {cfg.max_startups})"
        return None

    @property
    def sessions(self) -> list[KioskSession]:
        return [c.session for c in self.connections if c.session and c.session.child]

    async def start(self) -> asyncssh.SSHAcceptor:
        cfg = self.config
        if cfg.host_key is None:
            raise ValueError("no host key")
        options = asyncssh.SSHServerConnectionOptions(
            server_host_keys=[cfg.host_key],
            login_timeout=cfg.login_timeout,
            keepalive_interval=30, keepalive_count_max=3,
            agent_forwarding=False, x11_forwarding=False, allow_pty=True,
            allow_scp=False, encoding=None,
            server_version="HelpdeskKiosk",
        )
        self.listener = await asyncssh.create_server(
            lambda: KioskConnection(self), cfg.host or None, cfg.port, options=options,
            reuse_address=True)
        return self.listener

    def ports(self) -> list[tuple[str, int]]:
        if self.listener is None:
            return []
        out = []
        for sock in getattr(self.listener, "sockets", None) or []:
            name = sock.getsockname()
            out.append((str(name[0]), int(name[1])))
        if not out:
            out.append((self.config.host or "*", self.listener.get_port()))
        return out

    def verify_passphrase(self, passphrase: str) -> bool:
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        if self._hasher is None:
            self._hasher = PasswordHasher()
        try:
            return bool(self._hasher.verify(self.config.passphrase_hash or "", passphrase))
        except (VerificationError, InvalidHashError):
            return False

    async def close(self) -> None:
        if self.listener is not None:
            self.listener.close()
            with contextlib.suppress(Exception):
                await self.listener.wait_closed()
        await asyncio.gather(*(c.end("the server is stopping") for c in list(self.connections)),
                             return_exceptions=True)


class KioskConnection(asyncssh.SSHServer):
    """One client connection: admission, authentication, the one session, the timers."""

    def __init__(self, service: KioskSSHService) -> None:
        self.service = service
        self.config = service.config
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = "unknown"
        self.source = "unknown"  # what the per-source limits count (IPv6: the /64)
        self.terminal = "ssh:unknown"
        self.port = 0
        self.admitted = False  # past the startup limits
        self.pending = False  # admitted, not signed in yet
        self.auth_begun = False
        self.has_slot = False  # holds a session slot (signed in)
        self.refusal: str | None = None
        self.session: KioskSession | None = None
        self.session_opened = False
        self.username = ""
        self.failures = 0
        self.started = time.monotonic()
        self.last_input = self.started
        self.end_reason: str | None = None
        self.id = secrets.token_hex(3)
        self._watchdog: asyncio.Task[None] | None = None
        self._ended = False

    # ------------------------------------------------------------ admission
    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.address = client_address(conn)
        self.source = source_key(self.address)
        self.terminal = f"ssh:{self.address}"
        peer = conn.get_extra_info("peername") or ("", 0)
        self.port = int(peer[1]) if len(peer) > 1 else 0
        why = self.service.startup_refusal(self.source)
        if why is not None:
            # dropped before the server's version line: no key exchange is spent on it
            log.warning("%s refused (port %s): %s [%s]", self.terminal, self.port, why, self.id)
            conn.abort()
            return
        self.admitted = self.pending = True
        self.service.connections.add(self)
        if not self.service.limiter.allow(self.source):
            wait = self.service.limiter.retry_after(self.source)
            self.refusal = (f"Too many connections from {self.source}: at most "
                            f"{self.config.rate_limit} a minute. Try again in "
                            f"{max(1, round(wait))} s.")
            log.warning("%s refused (port %s): more than %d connections a minute [%s]",
                        self.terminal, self.port, self.config.rate_limit, self.id)
        else:
            log.info("%s connected (port %s) [%s]", self.terminal, self.port, self.id)
        self._watchdog = asyncio.get_running_loop().create_task(self._watch())

    def _refuse_busy(self) -> None:
        self.refusal = ("The kiosk is busy: all sessions are in use. "
                        "Please try again in a few minutes.")
        log.warning("%s refused (port %s): all %d sessions in use [%s]",
                    self.terminal, self.port, self.config.max_sessions, self.id)
        self._refuse_now()

    def _refuse_now(self) -> None:
        assert self.conn is not None and self.refusal is not None
        code = (asyncssh.DISC_TOO_MANY_CONNECTIONS if self.refusal.startswith(("Too", "The kiosk"))
                else asyncssh.DISC_BY_APPLICATION)
        self.end_reason = "refused"
        self.conn.disconnect(code, self.refusal)

    def connection_lost(self, exc: Exception | None) -> None:
        self.service.connections.discard(self)
        self.pending = self.has_slot = False
        if self._watchdog:
            self._watchdog.cancel()
        if self.session is not None:
            self.session.stop_child()
        if self.admitted and self.refusal is None:
            self.admitted = False
            reason = self.end_reason or ("connection lost" if exc else "client closed")
            log.info("%s disconnected after %s: %s [%s]", self.terminal,
                     _duration(time.monotonic() - self.started), reason, self.id)

    # ------------------------------------------------------------ authentication
    def begin_auth(self, username: str) -> bool:
        self.username = username
        self.auth_begun = True
        if self.refusal:
            self._refuse_now()
            return True
        if self.service.active >= self.config.max_sessions:
            self._refuse_busy()  # told before a passphrase is asked for
            return True
        mode = self.config.auth
        if mode == "none":
            return False
        if username != self.config.user:
            log.info("%s unknown user %s [%s]", self.terminal, _printable(username), self.id)
        return not (mode == "user" and username == self.config.user)

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return self.config.auth == "passphrase"

    def get_kbdint_challenge(self, username: str, lang: str,
                             submethods: str) -> tuple[str, str, str, list[tuple[str, bool]]]:
        return ("Helpdesk kiosk", "", "", [("Kiosk passphrase: ", False)])

    async def validate_kbdint_response(self, username: str, responses: Sequence[str]) -> bool:
        ok = False
        if (self.config.auth == "passphrase" and username == self.config.user
                and len(responses) == 1):
            ok = await asyncio.to_thread(self.service.verify_passphrase, responses[0])
        if not ok:
            self.failures += 1
            log.warning("%s failed sign-in %d for user %s [%s]", self.terminal, self.failures,
                        _printable(username), self.id)
            if self.failures >= MAX_PASSPHRASE_TRIES and self.conn is not None:
                self.end_reason = "too many failed sign-ins"
                self.conn.disconnect(asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE,
                                     "Too many failed attempts.")
        return ok

    def auth_completed(self) -> None:
        self.pending = False
        if self.service.active >= self.config.max_sessions:  # taken while this one signed in
            self._refuse_busy()
            return
        self.has_slot = True
        self.last_input = time.monotonic()
        log.info("%s signed in as %s [%s]", self.terminal, _printable(self.username), self.id)

    # ------------------------------------------------------------ channels
    def session_requested(self) -> KioskSession | bool:
        if self.session_opened:
            log.warning("%s refused a second session on one connection [%s]",
                        self.terminal, self.id)
            return False
        self.session_opened = True
        self.session = KioskSession(self)
        return self.session

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str,
                             orig_port: int) -> bool:
        log.warning("%s refused port forwarding to %s:%s [%s]", self.terminal,
                    _printable(dest_host, 64), dest_port, self.id)
        raise _prohibited("port forwarding is disabled")

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        log.warning("%s refused remote forwarding from %s:%s [%s]", self.terminal,
                    _printable(listen_host, 64), listen_port, self.id)
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        log.warning("%s refused Unix socket forwarding [%s]", self.terminal, self.id)
        raise _prohibited("forwarding is disabled")

    def unix_server_requested(self, listen_path: str) -> bool:
        log.warning("%s refused Unix socket forwarding [%s]", self.terminal, self.id)
        return False

    def tun_requested(self, unit: int | None) -> bool:
        raise _prohibited("tunnels are disabled")

    def tap_requested(self, unit: int | None) -> bool:
        raise _prohibited("tunnels are disabled")

    # ------------------------------------------------------------ timers
    def touch(self) -> None:
        self.last_input = time.monotonic()

    def _past_key_exchange(self) -> bool:
        # asyncssh records the ciphers when the server has answered the client's key exchange;
        # the rest of the sign-in may wait on a person (the host key prompt, a passphrase)
        return self.auth_begun or (
            self.conn is not None and self.conn.get_extra_info("send_cipher") is not None)

    async def _watch(self) -> None:
        cfg = self.config
        grace_at: float | None = self.started + cfg.login_grace
        while True:
            now = time.monotonic()
            idle_at = self.last_input + cfg.idle_timeout
            limit_at = self.started + cfg.max_session_length
            if grace_at is not None and self._past_key_exchange():
                grace_at = None
            if grace_at is not None and now >= grace_at:
                self.end_reason = (f"no key exchange within the {_duration(cfg.login_grace)} "
                                   "login grace")
                if self.conn is not None:
                    self.conn.abort()
                return
            if now >= limit_at:
                await self.end(f"Session closed: the time limit of "
                               f"{_duration(cfg.max_session_length)} was reached.",
                               reason="time limit")
                return
            if now >= idle_at:
                await self.end(f"Session closed after {_duration(cfg.idle_timeout)} "
                               "without input.", reason="idle")
                return
            wake = min(idle_at, limit_at, grace_at or limit_at)
            await asyncio.sleep(wake - now + 0.01)

    async def end(self, message: str, reason: str | None = None) -> None:
        """Close this connection from the server's side, telling the visitor why."""
        if self._ended:
            return
        self._ended = True
        self.end_reason = self.end_reason or reason or message
        if self.session is not None and self.session.started:
            await self.session.finish(message)
        if self.conn is not None:
            self.conn.disconnect(asyncssh.DISC_BY_APPLICATION, message)


class KioskSession(asyncssh.SSHServerSession[bytes]):
    """The one session of a connection: a kiosk process on a pty."""

    def __init__(self, owner: KioskConnection) -> None:
        self.owner = owner
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term_type: str | None = None
        self.size = (80, 24, 0, 0)
        self.child: PtyChild | None = None
        self.started = False
        self._closing = False
        self._finished = asyncio.Event()

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes: Any) -> bool:
        term = term_type or "xterm"
        if not valid_term_type(term):  # it would go into the kiosk's environment
            owner = self.owner
            log.warning("%s refused terminal type %s [%s]", owner.terminal, _printable(term),
                        owner.id)
            owner.end_reason = "invalid terminal type"
            if self.chan is not None:  # the client shows this before it sees the disconnect
                self.chan.write_stderr(b"Refused: the terminal type is not valid.\r\n")
            if owner.conn is not None:
                owner.conn.disconnect(asyncssh.DISC_BY_APPLICATION,
                                      "Refused: the terminal type is not valid.")
            return False
        self.term_type = term
        if term_size[0] and term_size[1]:
            self.size = term_size
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        log.warning("%s refused a command (exec request) [%s]", self.owner.terminal,
                    self.owner.id)
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        log.warning("%s refused subsystem %s [%s]", self.owner.terminal,
                    _printable(subsystem), self.owner.id)
        return False

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        return None  # signals never reach the kiosk

    def session_started(self) -> None:
        assert self.chan is not None
        self.started = True
        if self.term_type is None:
            self.chan.write(b"This is the helpdesk kiosk: it needs an interactive terminal "
                            b"(connect without -T and without a command).\r\n")
            self.chan.exit(1)
            self.owner.end_reason = "no terminal requested"
            return
        asyncio.get_running_loop().create_task(self._run_child())

    def _child_env(self) -> dict[str, str]:
        env = dict(self.owner.config.child_env)
        env["TERM"] = self.term_type or "xterm"
        if self.chan is not None:
            colorterm = self.chan.get_environment().get("COLORTERM", "")
            if colorterm in ("truecolor", "24bit"):
                env["COLORTERM"] = colorterm
        return env

    async def _run_child(self) -> None:
        owner, chan = self.owner, self.chan
        assert chan is not None
        cols, rows, _, _ = self.size
        argv = list(owner.config.child_command(owner.terminal))
        child = PtyChild(argv, env=self._child_env(), cols=cols, rows=rows,
                         cwd=owner.config.child_cwd, on_output=self._output,
                         on_input_pressure=self._input_pressure,
                         spawner=owner.config.spawner)
        try:
            await child.start()
        except (OSError, RuntimeError, ValueError) as exc:
            log.error("%s could not start the kiosk: %s [%s]", owner.terminal, exc, owner.id)
            chan.write(b"The kiosk could not start. Please contact the helpdesk.\r\n")
            chan.exit(1)
            return
        self.child = child
        if self.size[:2] != (cols, rows):  # resized while it was starting
            child.resize(*self.size)
        log.info("%s session started: pid %s, %s %dx%d [%s]", owner.terminal, child.pid,
                 _printable(self.term_type or ""), cols, rows, owner.id)
        if self._closing:  # the client left while it was starting
            await child.terminate(owner.config.kill_grace)
            return
        code = await child.wait()
        if self._closing:
            return
        owner.end_reason = owner.end_reason or f"the kiosk exited ({code})"
        self._closing = True
        child.close()
        note = b"" if code == 0 else b"The kiosk stopped. Please connect again.\r\n"
        with contextlib.suppress(OSError):
            chan.write(TERMINAL_RESET + b"\r\n" + note)
            chan.exit(code if 0 <= code < 256 else 1)
        self._finished.set()

    def _output(self, data: bytes) -> None:
        if self.chan is not None and not self._closing:
            try:
                self.chan.write(data)
            except OSError:  # the channel is already closing
                self.stop_child()

    def _input_pressure(self, high: bool) -> None:
        if self.chan is None:
            return
        if high:
            self.chan.pause_reading()
        else:
            self.chan.resume_reading()

    def data_received(self, data: bytes, datatype: int | None) -> None:
        self.owner.touch()
        if self.child is not None and not self._closing:
            self.child.write(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:
        if not (width and height):
            return
        self.size = (width, height, pixwidth, pixheight)
        self.owner.touch()
        if self.child is not None:
            self.child.resize(width, height, pixwidth, pixheight)

    def pause_writing(self) -> None:
        if self.child is not None:
            self.child.pause_output()

    def resume_writing(self) -> None:
        if self.child is not None:
            self.child.resume_output()

    def eof_received(self) -> bool:
        # the client will send nothing more (`ssh -tt host < /dev/null`): the session ends
        self.owner.end_reason = self.owner.end_reason or "client closed its input"
        self.stop_child()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_child()
        if self.owner.conn is not None:
            self.owner.conn.close()

    def stop_child(self) -> None:
        if self._closing and self.child is None:
            return
        self._closing = True
        if self.child is not None and self.child.returncode is None:
            asyncio.get_running_loop().create_task(
                self.child.terminate(self.owner.config.kill_grace))

    async def finish(self, message: str) -> None:
        """End the kiosk, restore the visitor's terminal and say why."""
        chan = self.chan
        self._closing = True
        if self.child is not None:
            await self.child.terminate(self.owner.config.kill_grace)
        if chan is not None:
            with contextlib.suppress(Exception):
                chan.write(TERMINAL_RESET + b"\r\n" + message.encode() + b"\r\n")
                chan.exit(0)
                await asyncio.sleep(0.05)
