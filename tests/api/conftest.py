"""Fixtures for the HTTP API tests: a demo engine (cheap argon2, frozen clock), the app, a
terminal key, the admin token, and a synchronous client over ASGI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend_stub.app import create_app
from kiosk.engine.clock import FrozenClock
from kiosk.engine.demo import build_demo_engine
from kiosk.engine.engine import Engine
from kiosk.engine.terminals import TerminalStore

CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
ADMIN_TOKEN = "test-admin-token-0123456789"
CODE = re.compile(r"\b(\d{4}) (\d{4})\b")


def make_engine(folder: Path, clock: FrozenClock | None = None, **overrides: Any) -> Engine:
    overrides.setdefault("security", CHEAP_ARGON2)
    return build_demo_engine(folder, clock=clock or FrozenClock(), **overrides)


def last_code(engine: Engine, recipient: str) -> str:
    for message in engine.outbox_messages(100):
        if message.recipient == recipient:
            found = CODE.search(message.body)
            if found:
                return found.group(1) + found.group(2)
    raise AssertionError(f"no code for {recipient}")


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
