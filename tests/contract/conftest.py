"""One behaviour, two backends: the fixtures.

Every test in tests/contract is written against the Backend protocol only and runs twice:
against `EmbeddedBackend` (in-process engine) and against `RemoteBackend` talking HTTP to a
real uvicorn server on 127.0.0.1 (a free port, one server for the session, in a thread) that
serves `backend_stub.create_app` over the same kind of demo engine. Any difference is a bug.

The test keeps the engine object: codes are read from `engine.outbox_messages()`, never from
the API, and time is a FrozenClock the server shares.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from backend_stub.app import create_app
from kiosk.backend import Backend
from kiosk.embedded import EmbeddedBackend
from kiosk.engine.clock import FrozenClock
from kiosk.engine.demo import build_demo_engine
from kiosk.engine.engine import Engine
from kiosk.engine.terminals import TerminalStore
from kiosk.remote import RemoteBackend

CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
CODE = re.compile(r"\b(\d{4}) (\d{4})\b")
ADMIN_TOKEN = "contract-admin-token"


def make_engine(folder: Path, clock: FrozenClock, **overrides: Any) -> Engine:
    overrides.setdefault("security", CHEAP_ARGON2)
    return build_demo_engine(folder, clock=clock, **overrides)


class LoopbackServer:
    """uvicorn on 127.0.0.1 in a thread; the app it serves is swapped per test."""

    def __init__(self) -> None:
        self.app: Any = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self._dispatch, interface="asgi3", lifespan="off",
                                log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="contract-uvicorn", daemon=True)

    async def _dispatch(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture(scope="session")
def loopback_server() -> Any:
    server = LoopbackServer()
    server.start()
    yield server
    server.stop()


@dataclass
class World:
    """A backend of one kind over a demo engine the test can inspect."""

    kind: str
    backend: Backend
    engine: Engine
    clock: FrozenClock
    terminal: str
    # another terminal's backend over the same engine (a flow belongs to its terminal)
    other_terminal: Callable[[], Awaitable[Backend]]
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def outbox_count(self) -> int:
        return len(self.engine.outbox_messages(200))

    def last_code(self, recipient: str) -> str:
        """The newest code sent to `recipient`, read from the engine's outbox."""
        for message in self.engine.outbox_messages(200):
            if message.recipient == recipient:
                found = CODE.search(message.body)
                if found:
                    return found.group(1) + found.group(2)
        raise AssertionError(f"no code for {recipient} in the outbox")


WorldFactory = Callable[..., Awaitable[World]]


@pytest.fixture(params=["embedded", "remote"])
async def make_world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[
        WorldFactory]:
    """Build a World of this test's kind; keyword arguments override the demo policy."""
    kind: str = request.param
    closers: list[Callable[[], Awaitable[None]]] = []
    count = 0
    server: LoopbackServer | None = (request.getfixturevalue("loopback_server")
                                     if kind == "remote" else None)

    async def factory(**overrides: Any) -> World:
        nonlocal count
        count += 1
        clock = FrozenClock()
        folder = tmp_path / f"world{count}"
        folder.mkdir()
        engine = make_engine(folder, clock, **overrides)
        if kind == "embedded":
            async def other_embedded() -> Backend:
                return EmbeddedBackend(engine, "console:other")

            backend: Backend = EmbeddedBackend(engine, "console:contract")
            world = World(kind, backend, engine, clock, "console:contract", other_embedded)
        else:
            assert server is not None
            server.app = create_app(engine, ADMIN_TOKEN)
            store = TerminalStore(engine.db, clock)
            terminal, key = store.create("contract")

            async def other_remote() -> Backend:
                _, other_key = store.create(f"other-{len(closers)}")
                other = RemoteBackend(server.url, other_key, timeout=30)
                closers.append(other.close)
                return other

            backend = RemoteBackend(server.url, key, timeout=30)
            world = World(kind, backend, engine, clock, terminal.identity, other_remote)
        closers.append(backend.close)

        async def dispose() -> None:
            engine.db.dispose()

        closers.insert(0, dispose)
        return world

    yield factory
    for close in reversed(closers):
        await close()


@pytest.fixture
async def world(make_world: WorldFactory) -> World:
    return await make_world()
