"""The API's request threads: the database pool's connections plus room for submits that wait
for argon2 (holding a thread but no connection), so light calls never queue behind them."""

from __future__ import annotations

import anyio.to_thread
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend_stub.app import ARGON2_WAITERS
from kiosk.engine.engine import Engine


def test_request_threads_leave_room_for_light_calls_behind_waiting_submits(
        app: FastAPI, engine: Engine) -> None:
    pool = engine.db.pool
    expected = pool.size() + pool._max_overflow + ARGON2_WAITERS  # type: ignore[attr-defined]

    @app.get("/test-threads")
    async def threads() -> int:
        return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    with TestClient(app) as client:  # the lifespan runs on entering
        assert client.get("/test-threads").json() == expected
    assert expected > 50  # every one of 50 kiosks may be waiting for its submit's argon2
