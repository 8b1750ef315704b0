"""Texts and voice calls through an HTTP gateway: a signed JSON POST, one retry.

Wire format (what a gateway implements):

    POST <delivery.gateway.url>
    Content-Type: application/json
    X-Kiosk-Timestamp: <unix seconds>
    X-Kiosk-Signature: sha256=<hex HMAC-SHA256 of the raw request body, key = gateway secret>

    {"channel": "text" | "call", "to": "+4915112345678", "body": "...", "id": "<uuid4>"}

2xx means accepted. A retry carries the same body, hence the same id and signature, so the
gateway can drop the duplicate when the first attempt did arrive.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid

import httpx

from kiosk.engine.config import Gateway
from kiosk.engine.delivery_base import DeliveryError, Message
from kiosk.engine.secret_files import gateway_secret

SIGNATURE_HEADER = "X-Kiosk-Signature"
TIMESTAMP_HEADER = "X-Kiosk-Timestamp"
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def sign(body: bytes, secret: str) -> str:
    """The signature header value for a raw body (gateways and tests verify with this)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str) -> bool:
    return hmac.compare_digest(sign(body, secret), header)


class GatewayDelivery:
    def __init__(self, cfg: Gateway, *, retry_delay: float = 0.2) -> None:
        self._cfg = cfg
        # secret_file, KIOSK_GATEWAY_SECRET or secret; a PolicyError names a bad file
        self._secret = gateway_secret(cfg)
        self._retry_delay = retry_delay  # a short pause lets a briefly overloaded gateway recover

    def _url(self) -> httpx.URL:
        try:
            url = httpx.URL(self._cfg.url)
        except httpx.InvalidURL:
            raise DeliveryError("delivery.gateway.url is not a valid URL") from None
        # the body holds a code: plain HTTP only where it never leaves the machine
        if url.scheme != "https" and not (url.scheme == "http" and url.host in _LOOPBACK):
            raise DeliveryError("delivery.gateway.url must use https (http only on loopback)")
        return url

    def send(self, message: Message) -> None:
        cfg = self._cfg
        if message.channel not in ("text", "call"):
            raise DeliveryError(f"the phone gateway cannot send a {message.channel!r} message")
        if not cfg.url:
            raise DeliveryError(
                "text/call delivery is not configured (delivery.gateway.url is empty)"
            )
        if not self._secret:
            raise DeliveryError("delivery.gateway.secret is empty (and no secret_file or "
                                "KIOSK_GATEWAY_SECRET): refusing to send unsigned")
        if not _E164.match(message.recipient):
            raise DeliveryError("recipient is not an E.164 phone number (+ and 2-15 digits)")
        url = self._url()
        payload = {
            "channel": message.channel,
            "to": message.recipient,
            "body": message.body,
            "id": str(uuid.uuid4()),
        }
        # ASCII JSON: any text (even a stray surrogate) encodes, and every gateway can parse it
        body = json.dumps(payload, separators=(",", ":")).encode("ascii")
        signature = sign(body, self._secret)
        # the host only: a URL may carry a token in its path or query
        where = f"{message.channel} gateway {url.host}"
        failure = ""
        with httpx.Client(timeout=cfg.timeout_seconds, follow_redirects=False) as client:
            for attempt in (1, 2):
                if attempt == 2 and self._retry_delay > 0:
                    time.sleep(self._retry_delay)
                headers = {
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: signature,
                    TIMESTAMP_HEADER: str(int(time.time())),
                }
                try:
                    response = client.post(url, content=body, headers=headers)
                except httpx.TimeoutException:
                    failure = f"timed out after {cfg.timeout_seconds:g} s"
                    continue
                except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                    failure = f"connection failed ({type(exc).__name__})"
                    continue
                except httpx.HTTPError as exc:  # a bad URL or protocol: retrying cannot help
                    raise DeliveryError(f"{where}: {type(exc).__name__}") from None
                status = response.status_code
                if 200 <= status < 300:
                    return
                if status >= 500:
                    failure = f"HTTP {status}"
                    continue
                # 3xx/4xx: the gateway understood and said no; the same request would fail again.
                # Its response text is not quoted: it may echo the body.
                raise DeliveryError(f"{where}: rejected with HTTP {status}")
        raise DeliveryError(f"{where}: {failure}, also on the retry")
