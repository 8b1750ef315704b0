"""RFC 9457 problem details: the one error format of the API.

Every error leaves as `application/problem+json` with the body of `KioskError.to_problem()`:
`type`, `title`, `status`, `detail`, plus `code` (stable, maps back to the typed error),
`support_code` (what the person reads to the helpdesk) and `params`. Validation errors name the
field but never repeat the value sent (it may be a password or an answer).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from kiosk.backend import InvalidInput, KioskError, ServiceUnavailable

log = logging.getLogger("backend_stub")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://kiosk.example.org/problems/"


class Problem(BaseModel):
    """RFC 9457 problem details, with the kiosk's stable error `code` and the support code."""

    type: str = Field(examples=[PROBLEM_BASE + "wrong_code"])
    title: str = Field(examples=["wrong code"])
    status: int = Field(ge=400, le=599)
    detail: str = Field(examples=["that code is not right"])
    code: str = Field(description="stable error id; the client re-raises kiosk.backend.ERRORS"
                                  "[code]", examples=["wrong_code"])
    support_code: str = Field("", description="read to the helpdesk; empty when there is no flow")
    params: dict[str, Any] = Field(default_factory=dict)


def problem_body(code: str, status: int, detail: str, *, support_code: str = "",
                 params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": PROBLEM_BASE + code,
        "title": code.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code,
        "support_code": support_code,
        "params": params or {},
    }


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), status_code=body["status"],
                        media_type=PROBLEM_JSON, headers=headers)


def error_response(error: KioskError) -> JSONResponse:
    headers = {}
    retry = error.params.get("retry_after")
    if error.status in (429, 503) and isinstance(retry, int):
        headers["Retry-After"] = str(retry)
    return problem_response(error.to_problem(), headers)


UNAUTHORIZED = problem_body("unauthorized", 401, "a valid API key is required")


def unauthorized() -> JSONResponse:
    return problem_response(UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})


def too_large(limit: int) -> JSONResponse:
    return problem_response(problem_body("payload_too_large", 413,
                                         f"the request body is larger than {limit} bytes",
                                         params={"limit": limit}))


# ---------------------------------------------------------------- exception handlers


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def on_kiosk_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KioskError)
    return error_response(exc)


async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 naming each wrong field and what is wrong, never what was sent."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field_of(e.get("loc", ())), "problem": str(e.get("msg", "invalid"))}
              for e in exc.errors()]
    first = errors[0] if errors else {"field": "body", "problem": "invalid"}
    error = InvalidInput(f"{first['field']}: {first['problem']}", field=first["field"],
                         errors=errors)
    return error_response(error)


async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    limit = getattr(exc, "limit", None)
    if exc.status_code == 413 and isinstance(limit, int):  # auth.BodyTooLarge
        return too_large(limit)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return problem_response(problem_body(code, exc.status_code, detail),
                            dict(exc.headers or {}))


def internal_error() -> JSONResponse:
    return problem_response(problem_body("internal_error", 500, "internal error"))


async def on_db_error(_request: Request, exc: Exception) -> JSONResponse:
    """A database outage is 503 (the kiosk shows "service unavailable" and retries)."""
    assert isinstance(exc, DBAPIError)
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        return error_response(ServiceUnavailable("the service is unavailable; try again shortly",
                                                 retry_after=5))
    log.error("database error", exc_info=exc)
    return internal_error()


async def on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    """Nothing internal leaks: a bare 500 (the traceback goes to the server log only)."""
    log.error("unexpected error", exc_info=exc)
    return internal_error()


HANDLERS: dict[int | type[Exception], Callable[[Request, Any], Coroutine[Any, Any, Response]]] = {
    KioskError: on_kiosk_error,
    RequestValidationError: on_validation_error,
    StarletteHTTPException: on_http_error,
    DBAPIError: on_db_error,
    Exception: on_unexpected,
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problem statuses an operation can answer with."""
    return {
        status: {"model": Problem, "content": {PROBLEM_JSON: {}},
                 "description": DESCRIPTIONS.get(status, "problem")}
        for status in statuses
    }


DESCRIPTIONS = {
    400: "wrong code, wrong answers, wrong password, code expired",
    401: "missing, unknown or revoked API key (nothing else is revealed)",
    403: "blocked, not eligible, not registered",
    404: "no such flow (or it ended), not available",
    409: "the call does not belong to the flow's current step",
    410: "the flow expired",
    413: "the request body is too large",
    422: "invalid input (the field is named; the value is never echoed)",
    429: "a new code cannot be sent yet",
    500: "internal error",
    502: "the code could not be delivered",
    503: "the service (or its database) is unavailable",
}
