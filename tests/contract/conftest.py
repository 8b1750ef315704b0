"""One behaviour, two backends: the fixtures.

Every test in tests/contract is written against the Backend protocol only and runs twice:
against `EmbeddedBackend` (in-process engine) and against `RemoteBackend` talking HTTP to a
real uvicorn server on 127.0.0.1 (a free port, one server for the session, in a thread) that
serves `backend_stub.create_app` over the same kind of demo engine. Any difference is a bug.

The test keeps the engine object: codes are read from `engine.outbox_messages()`, never from
the API, and time is a FrozenClock the server shares.
"""

from __future__ import annotations

import functools
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from backend_stub.app import create_app
from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.adapters.remote import RemoteBackend
from kiosk.backend import Backend
from kiosk.engine.clock import FrozenClock
from kiosk.engine.demo import build_demo_engine
from kiosk.engine.engine import Engine
from kiosk.engine.terminals import TerminalStore

CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
CODE = re.compile(r"\b(\d{4}) (\d{4})\b")
ADMIN_TOKEN = "contract-admin-token"


def make_engine(folder: Path, clock: FrozenClock, **overrides: Any) -> Engine:
    overrides.setdefault("security", CHEAP_ARGON2)
    return build_demo_engine(folder, clock=clock, **overrides)


class LoopbackServer:
    """uvicorn on 127.0.0.1 in a thread. It serves several apps side by side: `mount(app)`
    gives the base URL under which that app answers (`/w<n>/...` → the n-th app)."""

    def __init__(self) -> None:
        self.apps: dict[str, Any] = {}
        self.app: Any = None  # served at the root, when set
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

    def mount(self, app: Any) -> str:
        prefix = f"/w{len(self.apps)}"
        self.apps[prefix] = app
        return self.url + prefix

    async def _dispatch(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            prefix = "/" + path.split("/", 2)[1] if path.count("/") >= 2 else ""
            if prefix in self.apps:
                rest = path[len(prefix):]
                scope = {**scope, "path": rest, "raw_path": rest.encode()}
                await self.apps[prefix](scope, receive, send)
                return
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


class WorldBuilder:
    """Builds Worlds of either kind over fresh demo engines; closes them all at the end."""

    def __init__(self, folder: Path, server: LoopbackServer | None) -> None:
        self.folder = folder
        self.server = server
        self.closers: list[Callable[[], Awaitable[None]]] = []
        self.count = 0

    async def build(self, kind: str, **overrides: Any) -> World:
        self.count += 1
        clock = FrozenClock()
        folder = self.folder / f"world{self.count}"
        folder.mkdir()
        engine = make_engine(folder, clock, **overrides)

        async def dispose() -> None:
            engine.db.dispose()

        self.closers.insert(0, dispose)
        if kind == "embedded":
            async def other_embedded() -> Backend:
                return EmbeddedBackend(engine, "console:other")

            backend: Backend = EmbeddedBackend(engine, "console:contract")
            world = World(kind, backend, engine, clock, "console:contract", other_embedded)
        else:
            assert self.server is not None, "a remote world needs the loopback server"
            url = self.server.mount(create_app(engine, ADMIN_TOKEN))
            store = TerminalStore(engine.db, clock)
            terminal, key = store.create("contract")

            async def other_remote() -> Backend:
                _, other_key = store.create(f"other-{len(self.closers)}")
                other = RemoteBackend(url, other_key, timeout=30)
                self.closers.append(other.close)
                return other

            backend = RemoteBackend(url, key, timeout=30)
            world = World(kind, backend, engine, clock, terminal.identity, other_remote)
        self.closers.append(backend.close)
        return world

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()


@pytest.fixture(params=["embedded", "remote"])
async def make_world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[
        WorldFactory]:
    """Build a World of this test's kind; keyword arguments override the demo policy."""
    kind: str = request.param
    server = request.getfixturevalue("loopback_server") if kind == "remote" else None
    builder = WorldBuilder(tmp_path, server)
    yield functools.partial(builder.build, kind)
    await builder.close()


@pytest.fixture
async def world(make_world: WorldFactory) -> World:
    return await make_world()


@pytest.fixture
async def both_worlds(tmp_path: Path, loopback_server: LoopbackServer) -> AsyncIterator[
        tuple[World, World]]:
    """An embedded and a remote World side by side, for comparing transcripts."""
    builder = WorldBuilder(tmp_path, loopback_server)
    yield await builder.build("embedded"), await builder.build("remote")
    await builder.close()
