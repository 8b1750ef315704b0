"""Connections to an LDAP directory: ordered failover across the configured URLs, a small pool
of service-account connections, StartTLS / LDAPS with a CA file, timeouts, and one clear error
when no server answers.

Failover is done here rather than with ldap3's ServerPool: its FIRST / ROUND_ROBIN strategies
sleep POOLING_LOOP_TIMEOUT (10 s) after a cycle in which every server failed, which would freeze
a kiosk exactly when the directory is down. Here each URL is tried once, in order (servers that
failed recently go last), each with its own connect timeout, and then ServiceUnavailable.
"""

from __future__ import annotations

import contextlib
import logging
import math
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ldap3 import NONE, SIMPLE, SYNC, Connection, Server, Tls
from ldap3.core.exceptions import (
    LDAPCommunicationError,
    LDAPException,
    LDAPMaximumRetriesError,
    LDAPResponseTimeoutError,
    LDAPStartTLSError,
)

from kiosk.backend import ServiceUnavailable
from kiosk.engine.config import Ldap, PolicyError

log = logging.getLogger("kiosk.ldap")
T = TypeVar("T")
S = TypeVar("S")

UNAVAILABLE = "directory unavailable"
# result codes that mean "this server cannot serve now": another one may
SERVER_TROUBLE_CODES = {51, 52, 80}  # busy, unavailable, other


class ServerTrouble(LDAPCommunicationError):
    """A server answered but cannot serve (busy, unavailable): try the next one."""


NET_ERRORS: tuple[type[BaseException], ...] = (
    LDAPCommunicationError, LDAPResponseTimeoutError, LDAPStartTLSError,
    LDAPMaximumRetriesError, OSError)
# the network's errors and the pool's own "no server answers"
UNREACHABLE: tuple[type[BaseException], ...] = (*NET_ERRORS, ServiceUnavailable)


def read_bind_password(cfg: Ldap) -> str:
    if cfg.bind_password_file:
        try:
            return Path(cfg.bind_password_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise PolicyError([f"ldap.bind_password_file: cannot read {cfg.bind_password_file}"
                               f" ({exc.strerror})"]) from None
    return cfg.bind_password


def make_server(url: str, cfg: Ldap) -> Server:
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=cfg.ca_file or None,
              version=ssl.PROTOCOL_TLS_CLIENT)
    return Server(url, tls=tls, connect_timeout=cfg.connect_timeout_seconds, get_info=NONE)


class LdapPool:
    """Bound service-account connections, reused; user binds on fresh connections."""

    def __init__(self, cfg: Ldap, *, servers: list[Server] | None = None,
                 strategy: str = SYNC) -> None:
        self.cfg = cfg
        self.servers = servers if servers is not None else [make_server(u, cfg)
                                                            for u in cfg.urls]
        self.strategy = strategy
        self.bind_password = read_bind_password(cfg)
        # ldap3 packs it into SO_RCVTIMEO as whole seconds
        self.receive_timeout = max(1, math.ceil(cfg.timeout_seconds))
        self._idle: list[Connection] = []
        self._down_since: dict[int, float] = {}  # server index -> when it last failed
        self._lock = threading.Lock()
        # LDAP operations sent and the time spent in directory calls (the benchmark reads them)
        self.operations = 0
        self.seconds = 0.0

    # ------------------------------------------------------------ servers
    def _order(self) -> list[int]:
        """Servers in configured order; those that failed recently go last (still tried)."""
        now = time.monotonic()
        with self._lock:
            down = {i: t for i, t in self._down_since.items()
                    if now - t < self.cfg.retry_down_after_seconds}
        up = [i for i in range(len(self.servers)) if i not in down]
        return up + sorted(down, key=down.__getitem__)

    def _mark_down(self, server: Server, reason: object) -> None:
        index = next((i for i, s in enumerate(self.servers) if s is server), None)
        if index is None:
            return
        log.warning("directory server %s failed: %s", server, reason)
        with self._lock:
            self._down_since[index] = time.monotonic()
            stale = [c for c in self._idle if c.server is server]
            self._idle = [c for c in self._idle if c.server is not server]
        for conn in stale:
            self._close(conn)

    def _mark_up(self, server: Server) -> None:
        index = next((i for i, s in enumerate(self.servers) if s is server), None)
        with self._lock:
            if index is not None:
                self._down_since.pop(index, None)

    def open(self, user: str, password: str) -> tuple[Connection, bool]:
        """A connection on the first server that answers, and whether the bind succeeded.
        Raises ServiceUnavailable when no server answers."""
        for index in self._order():
            server = self.servers[index]
            conn = Connection(server, user=user, password=password, authentication=SIMPLE,
                              client_strategy=self.strategy, raise_exceptions=False,
                              receive_timeout=self.receive_timeout, auto_referrals=False,
                              return_empty_attributes=False)
            started = time.perf_counter()
            try:
                conn.open()
                if self.cfg.starttls and not server.ssl and self.strategy == SYNC \
                        and not conn.start_tls():
                    raise LDAPStartTLSError(f"StartTLS refused: {conn.result}")
                self.count_operation()
                bound = conn.bind()
                if not bound and conn.result and conn.result.get("result") in \
                        SERVER_TROUBLE_CODES:
                    raise ServerTrouble(f"bind: {conn.result.get('description')}")
            except NET_ERRORS as exc:
                self._close(conn)
                self._mark_down(server, exc)
                continue
            finally:
                self._count(started)
            self._mark_up(server)
            return conn, bound
        raise ServiceUnavailable(UNAVAILABLE)

    # ------------------------------------------------------------ pooled service connections
    def acquire(self) -> Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        conn, bound = self.open(self.cfg.bind_dn, self.bind_password)
        if not bound:
            result = conn.result or {}
            self._close(conn)
            log.error("the directory refused the service account %r: %s %s", self.cfg.bind_dn,
                      result.get("description"), result.get("message"))
            raise ServiceUnavailable(UNAVAILABLE)
        return conn

    def release(self, conn: Connection) -> None:
        with self._lock:
            if len(self._idle) < self.cfg.pool_size and not conn.closed:
                self._idle.append(conn)
                return
        self._close(conn)

    @staticmethod
    def _close(conn: Connection) -> None:
        with contextlib.suppress(LDAPException, OSError):
            conn.unbind()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            self._close(conn)

    def _count(self, started: float) -> None:
        elapsed = time.perf_counter() - started
        with self._lock:
            self.seconds += elapsed

    def count_operation(self) -> None:
        with self._lock:
            self.operations += 1

    def run(self, read: Callable[[Connection], S],
            write: Callable[[Connection, S], T] | None = None) -> Any:
        """`read` (retried once on a fresh connection, maybe another server, when the
        connection or server fails), then `write` on the same, just-proven connection.

        A write that fails in transit is not retried: the directory may have applied it, and a
        second password change would be refused as a reuse. ServiceUnavailable says so."""
        for _attempt in range(2):
            conn = self.acquire()
            started = time.perf_counter()
            try:
                state = read(conn)
            except NET_ERRORS as exc:
                self._close(conn)
                self._mark_down(conn.server, exc)
                continue
            except BaseException:
                self.release(conn)
                raise
            finally:
                self._count(started)
            break
        else:
            raise ServiceUnavailable(UNAVAILABLE)
        if write is None:
            self.release(conn)
            return state
        started = time.perf_counter()
        try:
            result = write(conn, state)
        except NET_ERRORS as exc:
            self._close(conn)
            self._mark_down(conn.server, exc)
            raise ServiceUnavailable(UNAVAILABLE, outcome="unknown") from None
        except BaseException:
            self.release(conn)
            raise
        finally:
            self._count(started)
        self.release(conn)
        return result

    def check_bind(self, dn: str, password: str) -> bool:
        """Bind as `dn` on a fresh connection: True when the directory accepts the password."""
        conn, bound = self.open(dn, password)
        self._close(conn)
        return bound
