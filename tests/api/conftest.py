"""Fixtures for the HTTP API tests: a demo engine (cheap argon2, frozen clock), the app, a
terminal key, the admin token, and a synchronous client over ASGI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend_stub.app import create_app
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from kiosk.engine.terminals import TerminalStore
from tests.support.api import ADMIN_TOKEN
from tests.support.engine import make_engine


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def engine(tmp_path: Path, clock: FrozenClock) -> Iterator[Engine]:
    engine = make_engine(tmp_path, clock)
    yield engine
    engine.db.dispose()


@pytest.fixture
def store(engine: Engine, clock: FrozenClock) -> TerminalStore:
    return TerminalStore(engine.db, clock)


@pytest.fixture
def terminal_key(store: TerminalStore) -> str:
    return store.create("test-kiosk")[1]


@pytest.fixture
def app(engine: Engine) -> FastAPI:
    return create_app(engine, ADMIN_TOKEN)


@pytest.fixture
def anon(app: FastAPI) -> Iterator[TestClient]:
    """No credentials."""
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def client(app: FastAPI, terminal_key: str) -> Iterator[TestClient]:
    """A terminal's client (its API key)."""
    with TestClient(app, raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {terminal_key}"}) as client:
        yield client


@pytest.fixture
def admin(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        yield client
