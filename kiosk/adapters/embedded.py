"""EmbeddedBackend: the Backend protocol served in-process by the engine.

Each call of the operation table goes to the engine's session of this terminal, under the same
name and arguments. Engine calls are synchronous (database, argon2); each runs in a worker
thread so the UI's event loop never stalls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from kiosk.backend.operations import Operation, implement
from kiosk.engine.engine import Engine


def _in_thread(op: Operation) -> Callable[..., Awaitable[Any]]:
    async def call(self: EmbeddedBackend, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self.session, op.name), *args, **kwargs)
    return call


@implement(_in_thread)
class EmbeddedBackend:
    def __init__(self, engine: Engine, terminal: str = "console:local") -> None:
        self.engine = engine
        self.terminal = terminal
        self.session = engine.session(terminal)

    async def close(self) -> None:
        # queued messages (a reset notice sent in the visit's last seconds) go out first: an
        # SSH session's process ends with os._exit, which skips the queue's exit-time drain
        close_delivery = getattr(self.engine.delivery, "close", None)
        if close_delivery is not None:
            await asyncio.to_thread(close_delivery, 10)
        await asyncio.to_thread(self.engine.db.dispose)
