"""Who may call: terminal API keys for `/v1/...`, the admin token for `/v1/admin/...`.

The check runs in an ASGI middleware, before any routing or body parsing, so a caller without a
valid key learns nothing at all (not even whether its JSON was well-formed): every refusal is the
same 401 problem. The middleware also caps the request body and marks API answers `no-store`.

The route dependencies below only read what the middleware established; they exist so the
OpenAPI document declares the bearer scheme.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend_stub.problems import error_response, too_large, unauthorized
from kiosk.backend import ServiceUnavailable
from kiosk.engine.terminals import TerminalStore

log = logging.getLogger("backend_stub")

API_PREFIX = "/v1/"
ADMIN_PREFIX = "/v1/admin/"
DEFAULT_MAX_BODY = 16 * 1024


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


@dataclass
class Gatekeeper:
    terminals: TerminalStore | None
    admin_token: str | None
    max_body: int = DEFAULT_MAX_BODY

    def admin_ok(self, token: str | None) -> bool:
        """Constant time over the token's SHA-256 (so its length leaks nothing either)."""
        expected = _digest(self.admin_token) if self.admin_token else _digest("\0unset")
        given = _digest(token) if token else b""
        return hmac.compare_digest(given, expected) and bool(self.admin_token)

    async def terminal(self, token: str | None) -> str | None:
        if not token or self.terminals is None:
            return None
        found = await anyio.to_thread.run_sync(self.terminals.verify, token)
        return found.identity if found is not None else None


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive` when a streamed body passes the limit (FastAPI lets
    HTTPExceptions through its body parsing, and the handler turns it into a 413 problem)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")
        self.limit = limit


class Guard:
    """ASGI middleware: authentication, body size limit, no-store on API answers."""

    def __init__(self, app: ASGIApp, gatekeeper: Gatekeeper) -> None:
        self.app = app
        self.gate = gatekeeper

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        api = path.startswith(API_PREFIX)
        started = False

        async def marked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if api:
                    headers = list(message.get("headers", []))
                    headers.append((b"cache-control", b"no-store"))
                    message = {**message, "headers": headers}
            await send(message)

        if api:
            token = bearer_token(scope)
            state = scope.setdefault("state", {})
            if path.startswith(ADMIN_PREFIX):
                if not self.gate.admin_ok(token):
                    await unauthorized()(scope, receive, marked_send)
                    return
                state["admin"] = True
            else:
                try:
                    identity = await self.gate.terminal(token)
                except Exception:  # the key store (the database) does not answer
                    log.warning("terminal key check failed: database unavailable")
                    await error_response(ServiceUnavailable(
                        "the service is unavailable; try again shortly", retry_after=5))(
                        scope, receive, marked_send)
                    return
                if identity is None:
                    await unauthorized()(scope, receive, marked_send)
                    return
                state["terminal"] = identity

        limit = self.gate.max_body
        length = _content_length(scope)
        if length is not None and length > limit:
            await too_large(limit)(scope, receive, marked_send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, limited_receive, marked_send)
        except BodyTooLarge:
            if started:
                raise
            await too_large(limit)(scope, receive, marked_send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# ---------------------------------------------------------------- route dependencies

_bearer = HTTPBearer(auto_error=False, scheme_name="terminalKey",
                     description="The terminal's API key (`kiosk admin terminals add`).")
_admin_bearer = HTTPBearer(auto_error=False, scheme_name="adminToken",
                           description="The admin token (KIOSK_ADMIN_TOKEN / --admin-token-file).")


# The dependencies here and in routes/admin/desk only read request state: `async def`, so
# FastAPI calls them on the event loop instead of a thread hop each (at 50 kiosks the loop's
# share of waking threads was what kept light calls waiting)
async def terminal_identity(
    request: Request,
    _credentials: HTTPAuthorizationCredentials | None = Security(_bearer),
) -> str:
    """The engine's terminal identity, `api:<key id>` (set by the Guard middleware)."""
    identity: Any = getattr(request.state, "terminal", None)
    if not isinstance(identity, str):  # only reachable if the middleware is missing
        raise RuntimeError("terminal authentication middleware not installed")
    return identity


async def admin_caller(
    request: Request,
    _credentials: HTTPAuthorizationCredentials | None = Security(_admin_bearer),
) -> None:
    if getattr(request.state, "admin", None) is not True:
        raise RuntimeError("admin authentication middleware not installed")
