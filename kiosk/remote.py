"""RemoteBackend: the Backend protocol over the HTTP API (backend_stub), with httpx.

- One `httpx.AsyncClient` for the kiosk's lifetime: connections are reused (keep-alive).
- Timeouts on every call (connect and read).
- Exactly one retry, for idempotent calls only: the GETs (branding, question pool, outbox)
  and `check_password` (it changes nothing). A call that changes state (sending or checking a
  code, setting a password) is never repeated: a retry could spend a code or send a second one.
- Problem responses become the typed errors again (`kiosk.backend.ERRORS[code]`), with their
  support code and params; an unreachable API, a timeout, a 5xx without a known error code, a
  401 (this terminal's key was refused) or an unreadable answer become `ServiceUnavailable`,
  which the UI shows as "service unavailable" with the helpdesk contact.

    backend = open_remote_backend("https://kiosk-api.example.org", "/etc/kiosk/api-key")
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import ssl
import stat
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from kiosk.backend import (
    ERRORS,
    AuthenticatorEnrollment,
    Branding,
    Channel,
    FlowNotFound,
    FlowState,
    InvalidInput,
    KioskError,
    MethodKind,
    OperatorExitState,
    OutboxMessage,
    PasswordCheck,
    Purpose,
    Question,
    QuestionAnswer,
    ServiceUnavailable,
)

log = logging.getLogger("kiosk.remote")
M = TypeVar("M", bound=BaseModel)

USER_AGENT = "helpdesk-kiosk-remote/1"
_QUESTIONS = TypeAdapter(list[Question])
_OUTBOX = TypeAdapter(list[OutboxMessage])
# statuses worth one more try (idempotent calls only): the server or a proxy was in trouble
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
# codes a 5xx may carry that are real answers of the engine, not an outage
_NOT_AN_OUTAGE = frozenset({"delivery_failed"})


def _unavailable(reason: str) -> ServiceUnavailable:
    return ServiceUnavailable("the service is unavailable; please try again shortly",
                              reason=reason)


_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def _segment(value: object, error: KioskError) -> str:
    """A flow or challenge id as a path segment. The engine's ids are URL-safe tokens; anything
    else cannot name one (and must not reach another route), so it is refused here."""
    if not isinstance(value, str) or not _TOKEN.match(value):
        raise error
    return value


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
    ) -> None:
        base = url.rstrip("/")
        base = base.removesuffix("/v1")
        if not base.startswith(("http://", "https://")):
            raise ValueError(f"the API URL must start with http:// or https:// (got {url!r})")
        if not api_key or any(ch.isspace() for ch in api_key):
            raise ValueError("the API key is empty or contains white space")
        if isinstance(verify, str):
            verify = ssl.create_default_context(cafile=verify)
        self.url = base
        self.retry_delay = retry_delay
        self.key_refused = False  # the API answered 401: said in the log and at the exit
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

    @staticmethod
    def _model(model: type[M], data: Any) -> M:
        try:
            return model.model_validate(data)
        except ValidationError:
            raise _unavailable("bad_response") from None

    async def _state(self, method: str, path: str, body: dict[str, Any] | None = None
                     ) -> FlowState:
        return self._model(FlowState, await self._call(method, path, body=body))

    @staticmethod
    def _flow(flow_id: object) -> str:
        return "/v1/flows/" + _segment(flow_id, FlowNotFound("no such flow"))

    @staticmethod
    def _challenge(challenge_id: object) -> str:
        return _segment(challenge_id, InvalidInput("unknown challenge", field="challenge"))

    # ------------------------------------------------------------ the protocol
    async def branding(self) -> Branding:
        return self._model(Branding, await self._call("GET", "/v1/branding", idempotent=True))

    async def start(self, purpose: Purpose, username: str) -> FlowState:
        return await self._state("POST", "/v1/flows",
                                 {"purpose": _value(purpose), "username": username})

    async def send_code(self, flow_id: str, method: MethodKind, channel: Channel) -> FlowState:
        return await self._state("POST", self._flow(flow_id) + "/codes",
                                 {"method": _value(method), "channel": _value(channel)})

    async def verify_code(self, flow_id: str, challenge_id: str, code: str) -> FlowState:
        path = f"{self._flow(flow_id)}/codes/{self._challenge(challenge_id)}/verify"
        return await self._state("POST", path, {"code": code})

    async def questions(self, flow_id: str) -> FlowState:
        return await self._state("POST", self._flow(flow_id) + "/questions")

    async def answer(self, flow_id: str, answers: list[str]) -> FlowState:
        return await self._state("POST", self._flow(flow_id) + "/answers", {"answers": answers})

    async def verify_totp(self, flow_id: str, code: str) -> FlowState:
        return await self._state("POST", self._flow(flow_id) + "/totp", {"code": code})

    async def verify_pass(self, flow_id: str, access_pass: str) -> FlowState:
        return await self._state("POST", self._flow(flow_id) + "/pass",
                                 {"access_pass": access_pass})

    async def check_password(self, flow_id: str, password: str) -> PasswordCheck:
        data = await self._call("POST", self._flow(flow_id) + "/password/check",
                                body={"password": password}, idempotent=True)
        return self._model(PasswordCheck, data)

    async def set_password(self, flow_id: str, password: str) -> FlowState:
        return await self._state("PUT", self._flow(flow_id) + "/password",
                                 {"password": password})

    async def unlock(self, flow_id: str) -> FlowState:
        return await self._state("POST", self._flow(flow_id) + "/unlock")

    async def cancel(self, flow_id: str) -> FlowState:
        return await self._state("DELETE", self._flow(flow_id))

    async def sign_in(self, flow_id: str, password: str) -> FlowState:
        return await self._state("POST", self._flow(flow_id) + "/sign-in",
                                 {"password": password})

    async def question_pool(self, flow_id: str) -> list[Question]:
        data = await self._call("GET", self._flow(flow_id) + "/registration/question-pool",
                                idempotent=True)
        try:
            return _QUESTIONS.validate_python(data)
        except ValidationError:
            raise _unavailable("bad_response") from None

    async def add_email(self, flow_id: str, address: str) -> FlowState:
        return await self._state("POST", self._flow(flow_id) + "/registration/email",
                                 {"address": address})

    async def add_phone(self, flow_id: str, kind: MethodKind, number: str,
                        channel: Channel) -> FlowState:
        return await self._state("POST", self._flow(flow_id) + "/registration/phone",
                                 {"kind": _value(kind), "number": number,
                                  "channel": _value(channel)})

    async def confirm_contact(self, flow_id: str, challenge_id: str, code: str) -> FlowState:
        path = (f"{self._flow(flow_id)}/registration/contacts/"
                f"{self._challenge(challenge_id)}/confirm")
        return await self._state("POST", path, {"code": code})

    async def set_questions(self, flow_id: str, entries: list[QuestionAnswer]) -> FlowState:
        if not isinstance(entries, list):
            raise InvalidInput("entries must be a list", field="entries")
        body = [e.model_dump() if isinstance(e, QuestionAnswer) else e for e in entries]
        return await self._state("PUT", self._flow(flow_id) + "/registration/questions",
                                 {"entries": body})

    async def begin_authenticator(self, flow_id: str) -> AuthenticatorEnrollment:
        data = await self._call("POST", self._flow(flow_id) + "/registration/authenticator")
        return self._model(AuthenticatorEnrollment, data)

    async def confirm_authenticator(self, flow_id: str, code: str) -> FlowState:
        return await self._state("POST",
                                 self._flow(flow_id) + "/registration/authenticator/confirm",
                                 {"code": code})

    async def finish_registration(self, flow_id: str) -> FlowState:
        return await self._state("POST", self._flow(flow_id) + "/registration/finish")

    async def operator_gate(self) -> OperatorExitState:
        data = await self._call("GET", "/v1/operator-exit", idempotent=True)
        return self._model(OperatorExitState, data)

    async def operator_exit(self, ok: bool) -> OperatorExitState:
        data = await self._call("POST", "/v1/operator-exit", body={"ok": ok})
        return self._model(OperatorExitState, data)

    async def outbox(self, limit: int = 20) -> list[OutboxMessage]:
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 200:
            raise InvalidInput("limit must be 1-200", field="limit")
        data = await self._call("GET", "/v1/outbox", params={"limit": limit}, idempotent=True)
        try:
            return _OUTBOX.validate_python(data)
        except ValidationError:
            raise _unavailable("bad_response") from None

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


def _value(item: object) -> object:
    """An enum member's value; anything else as given (the server validates it)."""
    return getattr(item, "value", item)


def read_api_key(key_file: str | Path) -> str:
    """The key from its file (surrounding white space dropped); warns when others may read it."""
    path = Path(key_file)
    try:
        mode = path.stat().st_mode
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"cannot read the API key file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"the API key file {path} is not text") from None
    if not key:
        raise ValueError(f"the API key file {path} is empty")
    if os.name == "posix" and mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("the API key file %s is readable by other users (chmod 600 it)", path)
    return key


def open_remote_backend(url: str, key_file: str | Path, **options: Any) -> RemoteBackend:
    """`kiosk --remote URL --api-key-file FILE`: a RemoteBackend with the key read from FILE.
    Raises ValueError with a message for the operator when the URL or the key file is wrong."""
    return RemoteBackend(url, read_api_key(key_file), **options)
