"""RemoteBackend: the Backend protocol over the HTTP API (backend_stub), with httpx.

- Its methods are built from the operation table (kiosk.backend.operations): a call's
  arguments fill the row's path, JSON body and query; the answer must parse as its result type.
- One `httpx.AsyncClient` for the kiosk's lifetime: connections are reused (keep-alive).
- Timeouts on every call (connect and read).
- Exactly one retry, for the calls the table marks idempotent only: the GETs (branding,
  question pool, operator gate, outbox) and `check_password` (it changes nothing). A call
  that changes state (sending or checking a code, setting a password) is never repeated: a
  retry could spend a code or send a second one.
- Problem responses become the typed errors again (`kiosk.backend.ERRORS[code]`), with their
  support code and params; an unreachable API, a timeout, a 5xx without a known error code, a
  401 (this terminal's key was refused) or an unreadable answer become `ServiceUnavailable`,
  which the UI shows as "service unavailable" with the helpdesk contact.
- No pydantic before the kiosk's first frame: `branding` (all a remote kiosk asks before its
  welcome screen) is read by kiosk.backend.branding.read_branding; the operation table and the
  validators of the other calls (pydantic) load on the first call that needs them.

    backend = open_remote_backend("https://kiosk-api.example.org", "/etc/kiosk/api-key")
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from kiosk.adapters.remote_start import api_base, read_api_key, remember_branding
from kiosk.backend import (
    CALLS,
    ERRORS,
    Branding,
    FlowNotFound,
    InvalidInput,
    KioskError,
    ServiceUnavailable,
)
from kiosk.backend.branding import read_branding
from kiosk.backend.protocol import arguments, implement_calls

if TYPE_CHECKING:
    from pydantic import TypeAdapter
    from pydantic.fields import FieldInfo

    from kiosk.backend.operations import Bounded, Operation

log = logging.getLogger("kiosk.remote")

USER_AGENT = "helpdesk-kiosk-remote/1"
# statuses worth one more try (idempotent calls only): the server or a proxy was in trouble
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
# codes a 5xx may carry that are real answers of the engine, not an outage
_NOT_AN_OUTAGE = frozenset({"delivery_failed"})


def _unavailable(reason: str) -> ServiceUnavailable:
    return ServiceUnavailable("the service is unavailable; please try again shortly",
                              reason=reason)


_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


# what an id that cannot be one means, by the path segment it was meant for
_NOT_AN_ID: dict[str, Callable[[], KioskError]] = {
    "flow_id": lambda: FlowNotFound("no such flow"),
    "challenge_id": lambda: InvalidInput("unknown challenge", field="challenge"),
}


def _segment(name: str, value: object) -> str:
    """A flow or challenge id as a path segment. The engine's ids are URL-safe tokens; anything
    else cannot name one (and must not reach another route), so it is refused here."""
    if not isinstance(value, str) or not _TOKEN.match(value):
        raise _NOT_AN_ID[name]()
    return value


def _bounded(query: Bounded, value: object) -> int:
    """A query parameter in its range (as the engine says it), checked before it is sent."""
    if not isinstance(value, int) or isinstance(value, bool) or not (
            query.low <= value <= query.high):
        raise InvalidInput(f"{query.name} must be {query.low}-{query.high}", field=query.name)
    return value


@dataclass(frozen=True)
class _Route:
    """One call's row of the operation table, with the validator of its answer."""

    op: Operation
    result: TypeAdapter[Any]
    fields: dict[str, FieldInfo]  # the JSON body's


@cache
def _route(name: str) -> _Route:
    """The row of the call `name`, loaded (with pydantic) when it is first made."""
    from pydantic import TypeAdapter

    from kiosk.backend.operations import OPERATIONS

    op = next(op for op in OPERATIONS if op.name == name)
    return _Route(op, TypeAdapter(op.result), dict(op.body.model_fields) if op.body else {})


def preload() -> None:
    """Every call's row and validator now (kiosk serve-ssh's fork server, before it forks)."""
    for name in CALLS:
        _route(name)


def _validated(route: _Route, data: Any) -> Any:
    from pydantic import ValidationError

    try:
        return route.result.validate_python(data)
    except ValidationError:
        raise _unavailable("bad_response") from None


def _over_http(name: str) -> Callable[..., Awaitable[Any]]:
    """The client method of one call: its arguments fill the path, the body and the query as
    its row of the table says; the answer is checked against the row's result type."""
    if name == "branding":
        return _branding

    async def call(self: RemoteBackend, *args: Any, **kwargs: Any) -> Any:
        route = _route(name)
        op = route.op
        given = arguments(name, args, kwargs)
        path = "/v1" + op.path.format(**{name: _segment(name, given[name])
                                         for name in op.segments})
        # an optional field left out is not sent (the body stays what a server without it reads)
        body = {name: _plain(given[name]) for name, field in route.fields.items()
                if given[name] is not None or field.is_required()
                } if op.body is not None else None
        params = {q.name: _bounded(q, given[q.name]) for q in op.query} or None
        data = await self._call(op.verb, path, body=body, params=params,
                                idempotent=op.idempotent)
        return _validated(route, data)
    return call


# the branding call's row of the table (a test checks): the one call made before the first frame
BRANDING_PATH = "/v1/branding"


async def _branding(self: RemoteBackend) -> Branding:
    """`branding`, read without pydantic when the answer has exactly the JSON types of
    Branding's fields (as the API writes it); anything else is for pydantic to judge."""
    data = await self._call("GET", BRANDING_PATH, idempotent=True)
    branding = read_branding(data)
    if branding is None:
        branding = _validated(_route("branding"), data)
    if self.branding_cache is not None:
        remember_branding(self.branding_cache, branding)
    return branding


@implement_calls(_over_http)
class RemoteBackend:
    """The Backend protocol over HTTP. Construct with the API's base URL and this terminal's key."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        verify: bool | str | ssl.SSLContext = True,
        retry_delay: float = 0.25,
        transport: httpx.AsyncBaseTransport | None = None,
        branding_cache: Path | None = None,
    ) -> None:
        base = api_base(url)
        if not api_key or any(ch.isspace() for ch in api_key):
            raise ValueError("the API key is empty or contains white space")
        if isinstance(verify, str):
            verify = ssl.create_default_context(cafile=verify)
        self.url = base
        self.retry_delay = retry_delay
        self.key_refused = False  # the API answered 401: said in the log and at the exit
        # where `kiosk run` keeps the last branding for its next start (remote_start)
        self.branding_cache = branding_cache
        self._client = httpx.AsyncClient(
            base_url=base,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT,
                     "Accept": "application/json, application/problem+json"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, connect_timeout)),
            verify=verify,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2,
                                keepalive_expiry=30),
            transport=transport,
            follow_redirects=False,
        )

    # ------------------------------------------------------------ plumbing
    async def _call(self, method: str, path: str, *, body: dict[str, Any] | None = None,
                    params: dict[str, Any] | None = None, idempotent: bool = False) -> Any:
        """The decoded JSON of a 2xx answer, or the typed error."""
        attempts = 2 if idempotent else 1
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = await self._client.request(method, path, content=_json(body),
                                                      params=params, headers=_JSON_TYPE
                                                      if body is not None else None)
            except httpx.TimeoutException:
                error: KioskError = _unavailable("timeout")
            except httpx.TransportError as exc:
                log.info("API unreachable: %s", type(exc).__name__)
                error = _unavailable("unreachable")
            else:
                if response.is_success:
                    try:
                        return response.json()
                    except ValueError:
                        raise _unavailable("bad_response") from None
                error = self._error(response)
                retryable = (response.status_code in _RETRY_STATUSES
                             and error.code not in _NOT_AN_OUTAGE)
                if not retryable:
                    raise error
            if last:
                raise error
            await asyncio.sleep(self.retry_delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, response: httpx.Response) -> KioskError:
        if response.status_code == 401:
            # the visitor sees the generic "service unavailable"; the operator must not
            # mistake a wrong or revoked key for a dead server
            if not self.key_refused:
                log.error("API key refused by %s (401): check the key file (--api-key-file / "
                          "kiosk.api_key_file) and `kiosk admin terminals list` on the API's "
                          "database (revoked?)", self.url)
            self.key_refused = True
            return _unavailable("unauthorized")
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if not isinstance(problem, dict) or not isinstance(problem.get("code"), str):
            return _unavailable("server_error" if response.status_code >= 500
                                else "bad_response")
        code = problem["code"]
        if code == "payload_too_large":  # what the embedded engine calls too long an input
            return InvalidInput(str(problem.get("detail") or code), field="body")
        cls = ERRORS.get(code)
        if cls is None:
            if response.status_code >= 500:
                return _unavailable("server_error")
            cls = KioskError
        params = problem.get("params")
        params = {k: v for k, v in params.items() if k not in ("message", "support_code")} \
            if isinstance(params, dict) else {}
        support = problem.get("support_code")
        error = cls(str(problem.get("detail") or code),
                    support_code=support if isinstance(support, str) else "", **params)
        if cls is KioskError:  # an error this client does not know by name: keep its code
            error.code = code
            error.status = response.status_code
        return error

    async def close(self) -> None:
        await self._client.aclose()

    # ------------------------------------------------------------ beyond the protocol
    async def ready(self) -> bool:
        """Whether the API and its database answer (for the UI's background retry)."""
        try:
            response = await self._client.get("/readyz")
        except httpx.HTTPError:
            return False
        return response.status_code == 200


_JSON_TYPE = {"Content-Type": "application/json"}


def _json(body: dict[str, Any] | None) -> bytes | None:
    """The request body as ASCII JSON: httpx's own encoder writes UTF-8 and raises on a lone
    surrogate (which a caller's text may hold), while its \\ud800 escape reaches the API,
    and the engine refuses it as invalid input like any other wrong text."""
    if body is None:
        return None
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("ascii")


def _plain(item: object) -> object:
    """A value as JSON data: an enum member's value, a model's fields, a list item by item;
    anything else as given (the server validates it)."""
    if isinstance(item, Enum):
        return item.value
    if hasattr(item, "model_dump"):  # a pydantic model (QuestionAnswer)
        return item.model_dump()
    if isinstance(item, list):
        return [_plain(each) for each in item]
    return item


def open_remote_backend(url: str, key_file: str | Path, **options: Any) -> RemoteBackend:
    """`kiosk --remote URL --api-key-file FILE`: a RemoteBackend with the key read from FILE.
    Raises ValueError with a message for the operator when the URL or the key file is wrong."""
    return RemoteBackend(url, read_api_key(key_file), **options)
