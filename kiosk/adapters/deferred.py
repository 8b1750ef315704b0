"""A Backend that is built after the first frame: the kiosk draws its welcome screen while the
engine (database, schema, demo users) is built in a worker thread.

A call made before the build is done waits for it (the screen shows its busy state, as for any
slow call); a build that fails is logged without its message and answered as
ServiceUnavailable, so the visitor sees the "service unavailable" screen, and the next call
tries the build again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from kiosk.backend import Backend, ServiceUnavailable
from kiosk.backend.protocol import implement_calls

log = logging.getLogger("kiosk.ui")
T = TypeVar("T")


class Build(Generic[T]):
    """One value built once in a daemon thread, started by the first `start()`; after a
    failure the next `start()` builds again."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._future: Future[T] | None = None

    def start(self) -> Future[T]:
        with self._lock:
            future = self._future
            if future is None or (future.done() and future.exception() is not None):
                future = self._future = Future()
                threading.Thread(target=self._run, args=(future,), name="kiosk-build",
                                 daemon=True).start()
            return future

    def _run(self, future: Future[T]) -> None:
        try:
            future.set_result(self._make())
        except BaseException as exc:  # handed to whoever waits
            future.set_exception(exc)

    def finish(self, timeout: float) -> T | None:
        """Wait (at most `timeout` seconds) for a build under way; its value, or None when none
        was started or it failed. Before its directory is removed: a build still running
        would write into it again."""
        future = self._future
        if future is None:
            return None
        with contextlib.suppress(Exception):
            return future.result(timeout)
        return None

    def built(self) -> T | None:
        """The value, if it is built (without waiting or starting anything)."""
        future = self._future
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()


async def _result(future: Future[T]) -> T:
    """The future's result, awaited. Unlike asyncio.wrap_future, a build that ends after this
    event loop closed (the app quit first; --kiosk starts a new one) raises nothing there."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def set_done() -> None:
        if not done.done():
            done.set_result(None)

    def wake(_: Future[T]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed
            loop.call_soon_threadsafe(set_done)

    future.add_done_callback(wake)
    await done
    return future.result()


def _after_build(name: str) -> Callable[..., Awaitable[Any]]:
    async def call(self: DeferredBackend, *args: Any, **kwargs: Any) -> Any:
        backend = await self.backend()
        return await getattr(backend, name)(*args, **kwargs)
    return call


# every call of the protocol by its name alone: the operation table (and with it pydantic) is
# the built backend's to load, after the first frame
@implement_calls(_after_build)
class DeferredBackend:
    """Serves the Backend protocol with `make(built)` once `build` has finished."""

    def __init__(self, build: Build[Any], make: Callable[[Any], Backend]) -> None:
        self._build = build
        self._make = make
        self._backend: Backend | None = None

    async def backend(self) -> Backend:
        if self._backend is None:
            try:
                built = await _result(self._build.start())
            except Exception as exc:
                # the type only: a database error's message may quote the URL and its password
                log.error("the backend could not be built: %s", type(exc).__qualname__)
                raise ServiceUnavailable("the service is not available") from None
            if self._backend is None:
                self._backend = self._make(built)
        return self._backend

    def built(self) -> Backend | None:
        """The backend made after the build (None before): e.g. whether its API key was refused."""
        return self._backend

    async def close(self) -> None:
        if self._backend is not None:
            await self._backend.close()
