"""Start `python -m backend_stub` as a child process on loopback and learn its URL.

Used by the multi-instance tests and by bench/api.py: a real uvicorn process, port 0 (the
kernel picks a free one; it is read back from uvicorn's start-up line).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kiosk.engine.toml_writer import to_toml

_RUNNING = re.compile(r"Helpdesk Kiosk API on (https?://[^\s]+)")


class ApiProcess:
    """A backend_stub child process. Use as a context manager; `url` is set once it listens."""

    def __init__(self, args: Sequence[str], *, env: dict[str, str] | None = None,
                 cwd: str | Path | None = None, start_timeout: float = 60) -> None:
        self.args = [sys.executable, "-m", "backend_stub", "--host", "127.0.0.1",
                     "--port", "0", *args]
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.url = ""
        self.log: deque[str] = deque(maxlen=200)
        self._ready = threading.Event()
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> ApiProcess:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, env=self.env, cwd=self.cwd)
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(self.start_timeout) or not self.url:
            self.stop()
            raise RuntimeError("backend_stub did not start:\n" + "\n".join(self.log))
        try:
            wait_until_ready(self.url, self.start_timeout, path="/healthz")
        except RuntimeError:
            self.stop()
            raise RuntimeError("backend_stub does not answer:\n" + "\n".join(self.log)) \
                from None
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line.rstrip())
            found = _RUNNING.search(line)
            if found and not self.url:
                self.url = found.group(1)
                self._ready.set()
        self._ready.set()  # the process ended

    def stop(self, timeout: float = 10) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def __enter__(self) -> ApiProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def wait_until_ready(url: str, timeout: float = 30, path: str = "/readyz") -> None:
    """Poll `path` until it answers 200 (loopback only: a TLS certificate is not checked)."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + path, timeout=2, verify=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} is not ready")
        time.sleep(0.1)


def toml_text(data: dict[str, Any]) -> str:
    """A policy dict as TOML, for the `--policy` of a child."""
    return to_toml(data)
