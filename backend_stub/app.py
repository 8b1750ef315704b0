"""The FastAPI application: `create_app(engine, admin_token=...)`.

    /healthz          the process answers (no authentication)
    /readyz           the database answers (no authentication)
    /openapi.json     the OpenAPI document (committed as backend_stub/openapi.json)
    /v1/...           the Backend protocol, one endpoint per call (terminal API key)
    /v1/admin/...     users, audit export, report, terminals (admin token)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from sqlalchemy import text

from backend_stub import admin, console_reports, desk, routes
from backend_stub.auth import DEFAULT_MAX_BODY, Gatekeeper, Guard
from backend_stub.models import Health
from backend_stub.problems import HANDLERS, PROBLEM_JSON, documented, error_response
from kiosk.backend import ServiceUnavailable
from kiosk.engine.engine import Engine
from kiosk.engine.terminals import TerminalStore

OPENAPI_FILE = Path(__file__).with_name("openapi.json")
API_VERSION = "1.0.0"

DESCRIPTION = """\
The HTTP API of Helpdesk Kiosk: the kiosk's Backend protocol over HTTP, served by the same
engine as the embedded kiosk.

* Each kiosk terminal authenticates with its own API key (`Authorization: Bearer hk_...`),
  created with `kiosk admin terminals add NAME`; the key id is the terminal's identity in the
  audit log and in throttling (`api:<key id>`).
* Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`, the
  flow's `support_code` and `params`.
* No endpoint ever returns a one-time code, an answer, or a password hash.
"""


class _KioskAPI(FastAPI):
    """FastAPI serving the document with problem+json error responses (`_openapi`)."""

    def openapi(self) -> dict[str, Any]:
        return _openapi(self)


def create_app(engine: Engine | None, admin_token: str | None = None, *,
               max_body: int = DEFAULT_MAX_BODY, terminals: TerminalStore | None = None
               ) -> FastAPI:
    """The API over `engine` (None only to render the OpenAPI document)."""
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if engine is not None:
            match_threads_to_pool(engine)
        yield

    app = _KioskAPI(
        title="Helpdesk Kiosk API", version=API_VERSION, description=DESCRIPTION,
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )
    app.state.engine = engine
    if terminals is None and engine is not None:
        terminals = TerminalStore(engine.db, engine.clock)
    app.state.terminals = terminals
    app.add_middleware(Guard, gatekeeper=Gatekeeper(terminals, admin_token or None, max_body))
    app.include_router(routes.router)
    app.include_router(admin.router)
    app.include_router(console_reports.router)
    app.include_router(desk.router)

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Health:
        """The process is up."""
        return Health(status="ok")

    @app.get("/readyz", response_model=Health, tags=["health"], responses=documented(503))
    async def readyz() -> Any:
        """The database answers."""
        try:
            await run_in_threadpool(_ping, app.state.engine)
        except Exception:
            return error_response(ServiceUnavailable("the database is not reachable",
                                                     retry_after=5))
        return Health(status="ready")

    return app


# requests that may wait for argon2 at once, beyond the database's connections: such a request
# holds a thread but no connection (the engine hashes outside transactions), so light calls
# still find both a thread and a connection while submits queue for the argon2 pool
ARGON2_WAITERS = 64


def match_threads_to_pool(engine: Engine) -> int:
    """Request threads: the database pool's connections plus ARGON2_WAITERS. With anyio's
    fixed 40, a queue of submits waiting for argon2 took every thread and light calls (start,
    send a code, a keystroke's check) waited behind it; with threads matched to the pool
    alone, the same happened sooner."""
    pool = engine.db.pool
    size = pool.size() if hasattr(pool, "size") else 0
    threads = size + getattr(pool, "_max_overflow", 0) + ARGON2_WAITERS
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    return threads


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with every error response under application/problem+json only
    (FastAPI files a response model under application/json)."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version,
                               description=app.description, routes=app.routes)
        for item in document.get("paths", {}).values():
            for operation in item.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[:1] in "45" and PROBLEM_JSON in content:
                        content[PROBLEM_JSON] = content.pop("application/json",
                                                            content[PROBLEM_JSON])
        app.openapi_schema = document
    return app.openapi_schema


def _ping(engine: Engine) -> None:
    with engine.db.connect() as conn:
        conn.execute(text("SELECT 1"))


def openapi_document() -> dict[str, Any]:
    """The document as served (it does not depend on the engine or the policy)."""
    return create_app(None).openapi()


def render_openapi() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
