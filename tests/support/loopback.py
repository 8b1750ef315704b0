"""uvicorn on 127.0.0.1 in a thread, for tests that talk HTTP to a real server (one server for a
test session can serve several apps side by side)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


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
