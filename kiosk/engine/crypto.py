"""Small cryptographic helpers: argon2id hashing, keyed hashes, codes, tokens, support codes."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk.engine.config import Security


class Hasher:
    """argon2id with the policy's cost; also gives a dummy hash so decoys cost the same."""

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
        return self._ph.hash(secret)

    def verify(self, hashed: str | None, secret: str) -> bool:
        """Constant work whether or not there is a hash to check against."""
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
