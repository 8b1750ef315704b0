"""A fork server for `kiosk serve-ssh --fork-server`: session processes start preloaded.

Starting a kiosk process costs about a second of CPU, nearly all of it importing Textual, the
engine and their dependencies. The fork server is one process that imports all of that once
(and freezes the garbage collector's view of it, so the pages stay shared), then forks a new
process for each session. Each session is still its own process with its own pty, session and
process group: a crash, a leak or a kill stays with it.

Protocol over a Unix SOCK_SEQPACKET socket pair (one message per packet, JSON):

    server → fork server  {"argv": [...], "env": {...}, "cwd": "..."} + the pty slave (SCM_RIGHTS)
    fork server → server  {"pid": N}              the session process, once forked
                          {"exit": N, "code": C}  when it ends (C < 0: killed by signal -C)
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import gc
import json
import logging
import os
import selectors
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger("kiosk.ssh")

MAX_MESSAGE = 1 << 20
PRELOAD = (
    "kiosk.app", "kiosk.screens.router", "kiosk.screens.welcome", "kiosk.screens.identify",
    "kiosk.screens.verify", "kiosk.screens.password", "kiosk.screens.outcome",
    "kiosk.screens.register", "kiosk.screens.dialogs", "kiosk.adapters.embedded",
    "kiosk.adapters.remote", "kiosk.engine.engine", "kiosk.ui_commands", "kiosk.ui_click",
    "kiosk.cli", "kiosk.ssh.session_process",
    "textual.drivers.linux_driver", "kiosk.terminal_input", "sqlalchemy.dialects.sqlite",
)


# ---------------------------------------------------------------------- the fork server
def _preload() -> None:
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    with contextlib.suppress(Exception):  # the password checker's word lists, if it has them
        from kiosk.engine import passwords

        warm = getattr(passwords, "preload", None)
        if callable(warm):
            warm()
    with contextlib.suppress(Exception):  # the remote client's call table and validators
        from kiosk.adapters.remote import preload

        preload()
    gc.collect()
    gc.freeze()  # keep the preloaded objects out of later collections: their pages stay shared


def _child(request: dict[str, Any], slave: int, own_fds: Sequence[int]) -> None:
    """In the forked process: become the session's kiosk; never returns."""
    code = 70
    try:
        signal.set_wakeup_fd(-1)
        for fd in own_fds:  # the fork server's socket, wake-up pipe and selector
            with contextlib.suppress(OSError):
                os.close(fd)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        os.environ.clear()
        os.environ.update(request["env"])
        if request.get("cwd"):
            os.chdir(request["cwd"])
        argv = list(request["argv"])
        sys.argv = argv
        # the same entry as an exec'd session:
        # argv is [python, -m, kiosk.ssh.session_process, run, ...]
        from kiosk.ssh.session_process import main

        code = main(argv[3:] if argv[1:3] == ["-m", "kiosk.ssh.session_process"] else argv[1:])
    except BaseException:  # never back into the fork server's loop
        code = 70
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code if isinstance(code, int) and 0 <= code < 256 else 1)


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        sock.send(json.dumps(message).encode())


def serve(fd: int) -> None:
    """The fork server's loop: run as `python -m kiosk.ssh.fork_server FD`."""
    sock = socket.socket(fileno=fd)
    _preload()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops us by closing the socket
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ, "request")
    sel.register(wake_r, selectors.EVENT_READ, "signal")
    _send(sock, {"ready": os.getpid()})
    while True:
        for key, _ in sel.select():
            if key.data == "signal":
                with contextlib.suppress(OSError):
                    os.read(wake_r, 512)
                _reap(sock)
                continue
            fds = array.array("i")
            try:
                data, ancdata, _flags, _addr = sock.recvmsg(
                    MAX_MESSAGE, socket.CMSG_SPACE(fds.itemsize))
            except InterruptedError:
                continue
            if not data:  # the server went away: so do we (sessions keep running until
                return    # their own connections end; the server kills their groups)
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            if len(fds) != 1:
                for extra in fds:
                    os.close(extra)
                _send(sock, {"error": "expected one file descriptor"})
                continue
            slave = fds[0]
            try:
                request = json.loads(data)
                pid = os.fork()
            except (ValueError, OSError) as exc:
                os.close(slave)
                _send(sock, {"error": type(exc).__name__})
                continue
            if pid == 0:
                _child(request, slave, (sock.fileno(), wake_r, wake_w, sel.fileno()))
            os.close(slave)
            _send(sock, {"pid": pid})


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = os.waitstatus_to_exitcode(status)
        _send(sock, {"exit": pid, "code": code})


# ---------------------------------------------------------------------- the server's side
class ForkServerError(RuntimeError):
    pass


class ForkServer:
    """The serve-ssh side: start the fork server, ask it for session processes."""

    def __init__(self, env: Mapping[str, str], cwd: str | None = None) -> None:
        self.env = dict(env)
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None
        self.sock: socket.socket | None = None
        self._lock = asyncio.Lock()
        self._replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._early: dict[int, int] = {}
        self.alive = False

    async def start(self, timeout: float = 60) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "kiosk.ssh.fork_server", str(theirs.fileno()),
                pass_fds=(theirs.fileno(),), env=self.env, cwd=self.cwd,
                stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
        finally:
            theirs.close()
        ours.setblocking(False)
        self.sock = ours
        loop = asyncio.get_running_loop()
        loop.add_reader(ours, self._readable)
        try:
            reply = await asyncio.wait_for(self._replies.get(), timeout)
        except TimeoutError:
            raise ForkServerError("the fork server did not start") from None
        if "ready" not in reply:
            raise ForkServerError(f"the fork server did not start: {reply}")
        self.alive = True

    def _readable(self) -> None:
        assert self.sock is not None
        while True:
            try:
                data = self.sock.recv(MAX_MESSAGE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                self._lost()
                return
            message = json.loads(data)
            if "exit" in message:
                pid, code = int(message["exit"]), int(message["code"])
                future = self._exits.pop(pid, None)
                if future is None:
                    self._early[pid] = code
                elif not future.done():
                    future.set_result(code)
            else:
                self._replies.put_nowait(message)

    def _lost(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.sock)
        if self.alive:
            log.error("the fork server stopped; new sessions start without it")
        self.alive = False
        self._replies.put_nowait({"error": "the fork server stopped"})
        # its sessions live on (orphans now): watch them end through a pidfd instead
        for pid, future in self._exits.items():
            self._watch_orphan(pid, future)
        self._exits.clear()

    @staticmethod
    def _watch_orphan(pid: int, future: asyncio.Future[int]) -> None:
        loop = asyncio.get_running_loop()
        try:
            fd = os.pidfd_open(pid)
        except (OSError, AttributeError):  # already gone, or no pidfd here
            if not future.done():
                future.set_result(0)
            return

        def ended() -> None:
            loop.remove_reader(fd)
            os.close(fd)
            if not future.done():
                future.set_result(0)  # the exit code went with the fork server

        loop.add_reader(fd, ended)

    async def spawn(self, argv: Sequence[str], env: Mapping[str, str], cwd: str | None,
                    slave: int) -> tuple[int, asyncio.Future[int]]:
        """A new session process on `slave`; returns its pid and a future of its exit code."""
        if not self.alive or self.sock is None:
            raise ForkServerError("the fork server is not running")
        message = json.dumps({"argv": list(argv), "env": dict(env), "cwd": cwd}).encode()
        async with self._lock:
            self.sock.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                           array.array("i", [slave]))])
            reply = await asyncio.wait_for(self._replies.get(), 30)
        if "pid" not in reply:
            raise ForkServerError(str(reply.get("error", reply)))
        pid = int(reply["pid"])
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if pid in self._early:
            future.set_result(self._early.pop(pid))
        else:
            self._exits[pid] = future
        return pid, future

    async def close(self) -> None:
        self.alive = False
        if self.sock is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.sock)
            self.sock.close()
            self.sock = None
        if self.proc is not None and self.proc.returncode is None:
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
