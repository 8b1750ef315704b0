"""One child process on its own pseudo-terminal, pumped through asyncio (no threads).

The child is started in a new session (its own process group) with the slave side of a fresh
pty as stdin, stdout and stderr; `kiosk.ssh.session_process` then makes that pty its
controlling terminal. The server keeps the master side: output is read as it comes and handed
to `on_output`, input is written with a small buffer, a resize sets the pty's window size and
signals the group, and `terminate` ends the whole group (SIGHUP, then SIGKILL after a grace
period).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import signal
import struct
import termios
from collections.abc import Awaitable, Callable, Mapping, Sequence

READ_CHUNK = 65536
INPUT_HIGH_WATER = 256 * 1024  # bytes of unread input before the sender is asked to pause


# (argv, env, cwd, pty slave) -> (pid, its exit code when it ends)
Spawner = Callable[[Sequence[str], Mapping[str, str], str | None, int],
                   Awaitable[tuple[int, Awaitable[int]]]]


async def exec_spawner(argv: Sequence[str], env: Mapping[str, str], cwd: str | None,
                       slave: int) -> tuple[int, Awaitable[int]]:
    """A new process (fork and exec) in a new session, the pty slave as its stdio."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=slave, stdout=slave, stderr=slave, env=dict(env), cwd=cwd,
        start_new_session=True, close_fds=True)
    return proc.pid, proc.wait()


def set_winsize(fd: int, cols: int, rows: int, xpix: int = 0, ypix: int = 0) -> None:
    cols = max(1, min(int(cols), 10000))
    rows = max(1, min(int(rows), 10000))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, xpix & 0xFFFF,
                                                    ypix & 0xFFFF))


class PtyChild:
    """A process on a pty. Construct, then `await start()`; `wait()` returns its exit code."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cols: int = 80,
        rows: int = 24,
        cwd: str | None = None,
        on_output: Callable[[bytes], None],
        on_input_pressure: Callable[[bool], None] | None = None,
        spawner: Spawner = exec_spawner,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.cols, self.rows = cols, rows
        self.cwd = cwd
        self.on_output = on_output
        self.on_input_pressure = on_input_pressure
        self.spawner = spawner
        self.master: int | None = None
        self._pid: int | None = None
        self._code: int | None = None
        self._wait: Awaitable[int] | None = None
        self._loop = asyncio.get_running_loop()
        self._inbuf = bytearray()
        self._reading = False
        self._paused = False
        self._pressure = False
        self._output_done = asyncio.Event()
        self._exited: asyncio.Future[int] = self._loop.create_future()

    @property
    def pid(self) -> int | None:
        return self._pid

    @property
    def returncode(self) -> int | None:
        return self._code

    async def start(self) -> None:
        master, slave = os.openpty()
        try:
            set_winsize(slave, self.cols, self.rows)
            os.set_blocking(master, False)
            self._pid, self._wait = await self.spawner(self.argv, self.env, self.cwd, slave)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.master = master
        self._start_reading()
        self._loop.create_task(self._reap())

    # ------------------------------------------------------------------ output
    def _start_reading(self) -> None:
        if self.master is not None and not self._reading and not self._output_done.is_set():
            self._loop.add_reader(self.master, self._on_readable)
            self._reading = True

    def _stop_reading(self) -> None:
        if self.master is not None and self._reading:
            self._loop.remove_reader(self.master)
            self._reading = False

    def pause_output(self) -> None:
        """The receiver is full: stop reading (the child blocks on its writes)."""
        self._paused = True
        self._stop_reading()

    def resume_output(self) -> None:
        self._paused = False
        self._start_reading()

    def _on_readable(self) -> None:
        self._read_some(limit=1)

    def _read_some(self, limit: int) -> None:
        """Read up to `limit` chunks; mark the output finished on EOF (EIO: no slave left)."""
        for _ in range(limit):
            if self.master is None or self._output_done.is_set():
                return
            try:
                data = os.read(self.master, READ_CHUNK)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno not in (errno.EIO, errno.EBADF):
                    raise
                data = b""
            if not data:
                self._stop_reading()
                self._output_done.set()
                return
            self.on_output(data)

    # ------------------------------------------------------------------ input
    def write(self, data: bytes) -> None:
        if self.master is None or self.returncode is not None:
            return
        self._inbuf += data
        self._flush_input()

    def _flush_input(self) -> None:
        if self.master is None:
            return
        while self._inbuf:
            try:
                written = os.write(self.master, self._inbuf)
            except BlockingIOError:
                break
            except OSError:
                self._inbuf.clear()
                break
            del self._inbuf[:written]
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_writer(self.master)
        if self._inbuf:
            self._loop.add_writer(self.master, self._flush_input)
        pressure = len(self._inbuf) > INPUT_HIGH_WATER
        if pressure != self._pressure:
            self._pressure = pressure
            if self.on_input_pressure:
                self.on_input_pressure(pressure)

    # ------------------------------------------------------------------ control
    def resize(self, cols: int, rows: int, xpix: int = 0, ypix: int = 0) -> None:
        self.cols, self.rows = cols, rows
        if self.master is None:
            return
        with contextlib.suppress(OSError):
            set_winsize(self.master, cols, rows, xpix, ypix)
        # the kernel signals the foreground group of a controlling terminal; say it anyway
        self.signal_group(signal.SIGWINCH)

    def signal_group(self, sig: int) -> None:
        pid = self.pid
        if pid is None or self.returncode is not None:
            return
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)

    async def _reap(self) -> None:
        assert self._wait is not None and self._pid is not None
        code = await self._wait
        self._code = code
        # the group may outlive its leader (a grandchild): it goes with the session
        with contextlib.suppress(OSError):
            os.killpg(self._pid, signal.SIGKILL)
        if not self._paused:
            self._read_some(limit=64)  # what it wrote just before exiting
        self._exited.set_result(code)

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)

    async def terminate(self, grace: float = 1.0) -> int | None:
        """End the child's process group: SIGHUP (like a hang-up), SIGKILL after `grace` s."""
        if self._pid is None:
            return None
        if self.returncode is None:
            self.signal_group(signal.SIGHUP)
            self.signal_group(signal.SIGCONT)
            try:
                await asyncio.wait_for(self.wait(), grace)
            except TimeoutError:
                self.signal_group(signal.SIGKILL)
        code = await self.wait()
        self.close()
        return code

    def close(self) -> None:
        if self.master is None:
            return
        self._stop_reading()
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_writer(self.master)
        with contextlib.suppress(OSError):
            os.close(self.master)
        self.master = None
        self._output_done.set()
