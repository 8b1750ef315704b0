"""Authenticator secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256) from the
server key, bound to where the secret belongs by its associated data.

A sealed value is text: "v1:" + base64url(12-byte nonce + ciphertext + 16-byte tag). Anything
without the prefix is a plaintext secret from before sealing (base32 never contains ':').
`cryptography` is imported on first use: a kiosk start that seals nothing does not pay for it.
"""

from __future__ import annotations

import base64
import functools
import os
from typing import Any

PREFIX = "v1:"
_INFO = b"helpdesk-kiosk authenticator secrets v1"
_NONCE = 12


class SealError(Exception):
    """A sealed value that does not open with this key (another key, or altered)."""


def method_context(user_id: int, kind: str) -> bytes:
    """Associated data of a registered method's secret: whose it is and which method."""
    return f"method:{user_id}:{kind}".encode()


def pending_context(flow_id: str) -> bytes:
    """Associated data of the secret being enrolled: the flow that holds it."""
    return f"pending:{flow_id}".encode()


@functools.lru_cache(maxsize=4)
def _aead(server_key: bytes) -> Any:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(server_key)
    return AESGCM(derived)


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def seal(server_key: bytes, secret: str, context: bytes) -> str:
    nonce = os.urandom(_NONCE)
    sealed = _aead(server_key).encrypt(nonce, secret.encode("utf-8"), context)
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def unseal(server_key: bytes, value: str, context: bytes) -> str:
    from cryptography.exceptions import InvalidTag

    if not is_sealed(value):
        raise SealError("not a sealed value")
    body = value.removeprefix(PREFIX)
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return _aead(server_key).decrypt(raw[:_NONCE], raw[_NONCE:], context).decode("utf-8")
    except (InvalidTag, ValueError) as exc:
        raise SealError("the sealed value does not open with this key") from exc


def unseal_or_none(server_key: bytes, value: object, context: bytes) -> str | None:
    """`value` unsealed; None when it is not a string or does not open (another key)."""
    if not isinstance(value, str):
        return None
    try:
        return unseal(server_key, value, context)
    except SealError:
        return None
