"""One behaviour, two backends (tests/contract): a World is a backend of one kind, embedded or
remote over HTTP, over a demo engine the test can inspect (its outbox, its clock)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend_stub.app import create_app
from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.adapters.remote import RemoteBackend
from kiosk.backend import Backend
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from kiosk.engine.terminals import TerminalStore
from tests.support.engine import last_code, make_engine
from tests.support.loopback import LoopbackServer

ADMIN_TOKEN = "contract-admin-token"


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
        return last_code(self.engine, recipient)


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
