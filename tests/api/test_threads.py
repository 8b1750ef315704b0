"""The API's request threads match the database pool: a request never holds a thread only to
wait for a connection while light calls queue behind it."""

from __future__ import annotations

import anyio.to_thread
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiosk.engine.engine import Engine


def test_request_threads_are_as_many_as_the_pool_has_connections(
        app: FastAPI, engine: Engine) -> None:
    pool = engine.db.pool
    expected = pool.size() + pool._max_overflow  # type: ignore[attr-defined]

    @app.get("/test-threads")
    async def threads() -> int:
        return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    with TestClient(app) as client:  # the lifespan runs on entering
        assert client.get("/test-threads").json() == expected
    assert expected < 40  # anyio's default, which the pool could not serve
