"""Small cryptographic helpers: argon2id hashing, keyed hashes, codes, tokens, support codes."""

from __future__ import annotations

import base64
import contextlib
import ctypes
import functools
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk.engine.config import Security

T = TypeVar("T")


def _cores() -> int:
    """The CPUs this process may run on (a container's or taskset's share, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


# argon2 calls in flight per process, whatever the number of threads, requests or engines:
# a flood of requests then holds at most cores × memory_cost of memory (64 MiB each by
# default) and queues the rest, instead of every thread of the server's pool allocating at once.
# Not cores // parallelism, though that would never run more lane threads than cores: with the
# policy's 4 lanes on 2 cores, one hash at a time did 0.74-0.83x the flows of the argon2
# ceiling at 50 kiosks against 1.01-1.07x for two (bench/api.py, A/B in one run; the lanes of
# one hash leave cores idle where they wait for each other)
ARGON2_CONCURRENCY = _cores()
# how much lower than the rest of the process argon2 runs (Linux nice steps): a light call
# (start, send a code, a keystroke's password check) then gets a core ahead of the queue of
# hashes instead of waiting behind it
ARGON2_NICENESS = 5


def _lower_priority() -> None:
    # on Linux a thread is a task with its own nice value; elsewhere, or where it is not
    # permitted, argon2 runs at the same priority
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ARGON2_NICENESS)


# glibc raises its mmap threshold after a large free (up to 32 MiB), so argon2's buffers below
# that (the demo's 19 MiB) stayed in every thread's heap after the hash; a fixed threshold
# hands each buffer back to the system when the hash is done
M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h
BIG_BUFFER = 1 << 20


def _hand_back_big_buffers() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its own policy applies
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, BIG_BUFFER)


class _Argon2Pool:
    """One bounded pool of argon2 threads per process (a forked child makes its own: the
    parent's threads do not exist in it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._executor: ThreadPoolExecutor | None = None

    def run(self, work: Callable[..., T], *args: object) -> T:
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                if self._executor is None:
                    _hand_back_big_buffers()
                self._pid = os.getpid()
                self._executor = ThreadPoolExecutor(
                    ARGON2_CONCURRENCY, thread_name_prefix="argon2", initializer=_lower_priority)
            executor = self._executor
        return executor.submit(work, *args).result()


_ARGON2 = _Argon2Pool()


class Hasher:
    """argon2id with the policy's cost; also gives a dummy hash so decoys cost the same.
    Every hash and verify runs on the process's argon2 pool (ARGON2_CONCURRENCY threads at a
    lower priority); the caller waits for it."""

    def __init__(self, cfg: Security) -> None:
        self._ph = PasswordHasher(
            time_cost=cfg.argon2_time_cost,
            memory_cost=cfg.argon2_memory_kib,
            parallelism=cfg.argon2_parallelism,
        )

    @functools.cached_property
    def dummy_hash(self) -> str:
        """Made on first need, not at start-up (start-up time is benchmarked)."""
        return self.hash(secrets.token_hex(16))

    def hash(self, secret: str) -> str:
        return _ARGON2.run(self._ph.hash, secret)

    def current(self, hashed: str | None) -> bool:
        """`hashed` is an argon2 hash made at this cost (its parameters are read, not checked)."""
        try:
            return hashed is not None and not self._ph.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return False

    def verify(self, hashed: str | None, secret: str) -> bool:
        """Constant work whether or not there is a hash to check against."""
        return _ARGON2.run(self._verify, hashed or self.dummy_hash, secret) and hashed is not None

    def _verify(self, hashed: str, secret: str) -> bool:
        try:
            return self._ph.verify(hashed, secret)
        except (VerificationError, InvalidHashError):
            return False


def keyed_hash(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 over the parts, unambiguous (length-prefixed)."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        data = part.encode("utf-8")
        mac.update(len(data).to_bytes(4, "big") + data)
    return mac.hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def new_code(length: int) -> str:
    """A numeric one-time code from the OS CSPRNG, uniformly distributed."""
    return f"{secrets.randbelow(10**length):0{length}d}"


def new_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


def support_code(correlation_id: str) -> str:
    """A short code a person can read to the helpdesk: 8 base32 chars as XXXX-XXXX."""
    digest = hashlib.sha256(correlation_id.encode()).digest()
    text = base64.b32encode(digest).decode()[:8]
    return f"{text[:4]}-{text[4:]}"
