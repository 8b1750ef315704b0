"""Small cryptographic helpers: argon2id hashing, keyed hashes, codes, tokens, support codes."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk.engine.config import Security


def _cores() -> int:
    """The CPUs this process may run on (a container's or taskset's share, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


# argon2 calls in flight per process, whatever the number of threads, requests or engines:
# a flood of requests then holds at most cores × memory_cost of memory (64 MiB each by
# default) and queues the rest, instead of every thread of the server's pool allocating at once
ARGON2_CONCURRENCY = _cores()
_ARGON2_SLOTS = threading.BoundedSemaphore(ARGON2_CONCURRENCY)


class Hasher:
    """argon2id with the policy's cost; also gives a dummy hash so decoys cost the same.
    Every hash and verify takes one of the process's ARGON2_CONCURRENCY slots."""

    def __init__(self, cfg: Security) -> None:
        self._ph = PasswordHasher(
            time_cost=cfg.argon2_time_cost,
            memory_cost=cfg.argon2_memory_kib,
            parallelism=cfg.argon2_parallelism,
        )

    @functools.cached_property
    def dummy_hash(self) -> str:
        """Made on first need, not at start-up (start-up time is benchmarked)."""
        return self._ph.hash(secrets.token_hex(16))

    def hash(self, secret: str) -> str:
        with _ARGON2_SLOTS:
            return self._ph.hash(secret)

    def current(self, hashed: str | None) -> bool:
        """`hashed` is an argon2 hash made at this cost (its parameters are read, not checked)."""
        try:
            return hashed is not None and not self._ph.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return False

    def verify(self, hashed: str | None, secret: str) -> bool:
        """Constant work whether or not there is a hash to check against."""
        with _ARGON2_SLOTS:  # (the dummy hash, made once, is made in the same slot)
            try:
                return self._ph.verify(hashed or self.dummy_hash, secret) and hashed is not None
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
