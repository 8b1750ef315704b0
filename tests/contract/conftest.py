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
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.loopback import LoopbackServer
from tests.support.worlds import World, WorldBuilder, WorldFactory


@pytest.fixture(scope="session")
def loopback_server() -> Any:
    server = LoopbackServer()
    server.start()
    yield server
    server.stop()


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
