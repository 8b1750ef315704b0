"""`kiosk serve-ssh`: time from `ssh` to the welcome screen, and memory per session.

    .venv/bin/python bench/ssh.py [--rounds 1,10,25,50] [--modes exec,fork] [--json]

Starts `kiosk serve-ssh --demo` on 127.0.0.1 (a free port), then for each round opens N real
OpenSSH clients at once, each on its own pseudo-terminal (100x30), and waits until every one
shows the welcome screen: once with sessions started the default way (a new interpreter each)
and once with --fork-server (forked from one preloaded process). Per round it prints the
connect-to-welcome time (median, slowest) and the resident memory of each session: the sum of
RSS over the session's process tree (the kiosk process started for it, and anything under it),
with PSS beside it (shared pages split between the processes sharing them). In the same run it
measures a bare Textual app (a minimal App with one Input) on a pty the same way, and prints
memory per session as a multiple of it. Loopback only; needs `ssh`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

WELCOME = "I forgot my password"
COLS, ROWS = 100, 30
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
                  rb"|\x1b\][^\x07]*\x07")

BARE_APP = textwrap.dedent("""
    from textual.app import App
    from textual.widgets import Input

    class Bare(App):
        def compose(self):
            yield Input(placeholder="bare textual app ready")

    Bare().run()
""")


# ---------------------------------------------------------------------- processes on a pty
@dataclass
class PtyProc:
    argv: list[str]
    env: dict[str, str]
    needle: str
    started: float = 0.0
    ready_at: float | None = None
    proc: asyncio.subprocess.Process | None = None
    master: int = -1
    seen: bytearray = field(default_factory=bytearray)

    async def start(self, ready: asyncio.Event) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        os.set_blocking(master, False)
        self.master = master
        self.started = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env,
            start_new_session=True)
        os.close(slave)
        loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                data = os.read(master, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(master)
                return
            self.seen += data
            if len(self.seen) > 1_000_000:
                del self.seen[:-200_000]
            if self.ready_at is None and self.needle in ANSI.sub(b"", self.seen).decode(
                    "utf-8", "replace"):
                self.ready_at = time.perf_counter()
                ready.set()

        loop.add_reader(master, readable)

    @property
    def seconds(self) -> float:
        assert self.ready_at is not None
        return self.ready_at - self.started

    async def stop(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):
            loop.remove_reader(self.master)
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                await self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)


async def run_all(procs: list[PtyProc], timeout: float) -> None:
    events = [asyncio.Event() for _ in procs]
    await asyncio.gather(*(p.start(e) for p, e in zip(procs, events, strict=True)))
    try:
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), timeout)
    except TimeoutError:
        late = [p for p in procs if p.ready_at is None]
        tail = ANSI.sub(b"", late[0].seen[-2000:]).decode("utf-8", "replace")
        raise SystemExit(f"{len(late)} of {len(procs)} never showed {late[0].needle!r}; "
                         f"the first one's output ends with:\n{tail}") from None


# ---------------------------------------------------------------------- memory
def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def tree(pid: int) -> list[int]:
    out = [pid]
    for child in children(pid):
        out += tree(child)
    return out


def rss_pss_kib(pid: int) -> tuple[int, int]:
    rss = pss = 0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    return rss, pss


def session_pids(server: int) -> list[int]:
    """The sessions' kiosk processes: the server's children, or the fork server's."""
    out = []
    for pid in children(server):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        out += children(pid) if b"kiosk.ssh.fork_server" in argv else [pid]
    return out


def tree_memory(pid: int) -> tuple[int, int]:
    rss = pss = 0
    for p in tree(pid):
        r, s = rss_pss_kib(p)
        rss, pss = rss + r, pss + s
    return rss, pss


# ---------------------------------------------------------------------- the benchmark
def start_server(workdir: Path, fork_server: bool) -> tuple[subprocess.Popen[str], int]:
    cmd = [sys.executable, "-m", "kiosk.cli", "serve-ssh", "--demo", "--host", "127.0.0.1",
           "--port", "0", "--host-key", str(workdir / "host_key"), "--max-sessions", "200",
           "--rate-limit", "0", "--idle-timeout", "600",
           # all rounds come from one address at once: no cap on sign-ins in progress
           "--max-startups", "200", "--per-source-max-startups", "0",
           "--fork-server" if fork_server else "--no-fork-server"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_STATE_HOME": str(workdir)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env, cwd=workdir)
    assert proc.stdout is not None
    port = 0
    for line in proc.stdout:
        if m := re.search(r"port (\d+)$", line.strip()):
            port = int(m.group(1))
        if line.startswith("Ready"):
            return proc, port
    raise SystemExit("kiosk serve-ssh did not start")


def ssh_argv(port: int) -> list[str]:
    return ["ssh", "-tt", "-p", str(port), "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "reset@127.0.0.1"]


async def measure_round(server: subprocess.Popen[str], port: int, n: int) -> dict[str, float]:
    env = {**os.environ, "TERM": "xterm-256color"}
    clients = [PtyProc(ssh_argv(port), env, WELCOME) for _ in range(n)]
    await run_all(clients, timeout=60 + 6 * n)
    await asyncio.sleep(1.0)  # let every kiosk settle after its first frame
    sessions = session_pids(server.pid)
    per_session = [tree_memory(pid) for pid in sessions]
    server_rss, _ = rss_pss_kib(server.pid)
    times = sorted(c.seconds for c in clients)
    for client in clients:
        await client.stop()
    deadline = time.monotonic() + 20
    while session_pids(server.pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return {
        "sessions": n,
        "kiosk_processes": len(sessions),
        "welcome_median_s": statistics.median(times),
        "welcome_max_s": times[-1],
        "rss_per_session_mib": statistics.mean(r for r, _ in per_session) / 1024,
        "pss_per_session_mib": statistics.mean(p for _, p in per_session) / 1024,
        "server_rss_mib": server_rss / 1024,
    }


async def measure_bare(workdir: Path) -> dict[str, float]:
    script = workdir / "bare_app.py"
    script.write_text(BARE_APP, encoding="utf-8")
    env = {**os.environ, "TERM": "xterm-256color"}
    bare = PtyProc([sys.executable, str(script)], env, "bare textual app ready")
    await run_all([bare], timeout=60)
    await asyncio.sleep(1.0)
    assert bare.proc is not None
    rss, pss = tree_memory(bare.proc.pid)
    result = {"first_frame_s": bare.seconds, "rss_mib": rss / 1024, "pss_mib": pss / 1024}
    await bare.stop()
    return result


async def main_async(rounds: list[int], modes: list[str], as_json: bool) -> None:
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ssh-") as tmp:
        workdir = Path(tmp)
        bare = await measure_bare(workdir)
        for mode in modes:
            server, port = start_server(workdir, fork_server=mode == "fork")
            try:
                results[mode] = [await measure_round(server, port, n) for n in rounds]
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(20)
    if as_json:
        print(json.dumps({"bare_textual": bare, "modes": results}, indent=2))
        return
    print(f"kiosk serve-ssh --demo, OpenSSH client on a {COLS}x{ROWS} pty, loopback; "
          f"{os.cpu_count()} CPUs")
    print(f"bare Textual app (one Input) on a pty: first frame {bare['first_frame_s']:.2f} s, "
          f"RSS {bare['rss_mib']:.1f} MiB, PSS {bare['pss_mib']:.1f} MiB")
    print()
    print("sessions  start  welcome median  slowest   RSS/session  PSS/session  RSS vs bare  "
          "PSS vs bare")
    for mode, rows in results.items():
        for r in rows:
            print(f"{r['sessions']:>8}  {mode:<5}  {r['welcome_median_s']:>12.2f} s"
                  f"  {r['welcome_max_s']:>5.2f} s"
                  f"  {r['rss_per_session_mib']:>8.1f} MiB  {r['pss_per_session_mib']:>8.1f} MiB"
                  f"  {r['rss_per_session_mib'] / bare['rss_mib']:>9.2f}x"
                  f"  {r['pss_per_session_mib'] / bare['pss_mib']:>9.2f}x")
    print("\nstart: exec = a new interpreter per session (default); fork = --fork-server")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", default="1,10,25,50",
                        help="concurrent sessions per round, comma-separated")
    parser.add_argument("--modes", default="exec,fork",
                        help="how sessions start: exec (default of serve-ssh), fork "
                             "(--fork-server); comma-separated")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if shutil.which("ssh") is None:
        raise SystemExit("needs the OpenSSH client (ssh)")
    rounds = [int(x) for x in args.rounds.split(",") if x.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not set(modes) <= {"exec", "fork"}:
        raise SystemExit("--modes: exec and/or fork")
    asyncio.run(main_async(rounds, modes, args.json))


if __name__ == "__main__":
    main()
