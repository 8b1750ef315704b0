"""Start-up benchmark: process start → the welcome screen is on the terminal.

`kiosk demo` and `kiosk run --remote URL` (against a stand-in API in this process that answers
`branding`) against a bare Textual app with one Input, measured alternately in the same run
(so all see the same machine load), each in its own pseudo-terminal. "Ready" is the moment the
screen's marker text has been written to the terminal; peak memory is the child's max RSS.
A remote kiosk draws its welcome screen from the branding its API gave at its last start
(kiosk.adapters.remote_start); "first start" measures it without that cache, asking the API
before its first frame.

    .venv/bin/python bench/startup.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from fcntl import ioctl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from termios import TIOCSWINSZ

HERE = Path(__file__).resolve().parent
KIOSK = Path(sys.executable).with_name("kiosk")
CSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")

BARE_APP = '''
from textual.app import App
from textual.widgets import Input

class Bare(App):
    def compose(self):
        yield Input(placeholder="bare app ready")

Bare().run()
'''


BRANDING = {"organization": "Contoso", "helpdesk": "IT helpdesk, room 1.12"}


class StandInApi(BaseHTTPRequestHandler):
    """The kiosk API's `branding` call (all a remote kiosk asks before its first screen)."""

    def do_GET(self) -> None:
        found = self.path.rstrip("/").endswith("/branding")
        body = json.dumps(BRANDING if found else {"title": "not found"}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def stand_in_api() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def measure(argv: list[str], marker: bytes, env: dict[str, str],
            timeout: float = 60) -> tuple[float, int]:
    """(seconds to the marker, peak RSS in KiB) of one run in an 80x24 pseudo-terminal."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.execve(argv[0], argv, env)
    ioctl(fd, TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    seen = b""
    elapsed = None
    try:
        while elapsed is None:
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"{argv} did not show {marker!r}")
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            seen += chunk
            if marker in CSI.sub(b"", seen[-200_000:]):
                elapsed = time.perf_counter() - start
    finally:
        os.kill(pid, signal.SIGKILL)  # the kiosk has no quit key, by design
        _, _, usage = os.wait4(pid, 0)
        os.close(fd)
    if elapsed is None:
        raise RuntimeError(f"{argv} ended before showing {marker!r}")
    return elapsed, usage.ru_maxrss  # KiB on Linux


def kiosk_package(env: dict[str, str]) -> str:
    """Where the measured `kiosk` imports its code from (PYTHONPATH, else the installed one)."""
    # -P: like the `kiosk` script, without the current directory in front of sys.path
    out = subprocess.run([sys.executable, "-P", "-c", "import kiosk; print(kiosk.__file__)"],
                         env=env, capture_output=True, text=True, check=True)
    return str(Path(out.stdout.strip()).parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    bare = tmp / "bare_app.py"
    bare.write_text(BARE_APP, encoding="utf-8")
    env = {**os.environ, "TERM": "xterm-256color", "TMPDIR": str(tmp), "COLUMNS": "80",
           "LINES": "24"}
    env.pop("TEXTUAL", None)
    # as installed: the kiosk's modules compiled once (by the unmeasured runs below), not at
    # every start; PYTHONDONTWRITEBYTECODE in the caller's environment would measure that too
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    key = tmp / "api.key"
    key.write_text("bench-key\n", encoding="utf-8")
    key.chmod(0o600)
    remote = [str(KIOSK), "run", "--remote", stand_in_api(), "--api-key-file", str(key),
              "--log", str(tmp / "kiosk.log")]
    env["XDG_CACHE_HOME"] = str(tmp / "cache")  # the remote kiosk's branding cache
    no_cache = {**env, "XDG_CACHE_HOME": str(tmp / "no-cache")}  # emptied before each run
    welcome = b"What would you like to do?"
    subjects = {
        "kiosk demo": ([str(KIOSK), "demo"], welcome, env),
        "kiosk run --remote": (remote, welcome, env),
        "kiosk run --remote, first start": (remote, welcome, no_cache),
        "bare Textual app": ([sys.executable, str(bare)], b"bare app ready", env),
    }

    def run(argv: list[str], marker: bytes, run_env: dict[str, str]) -> tuple[float, int]:
        shutil.rmtree(no_cache["XDG_CACHE_HOME"], ignore_errors=True)
        return measure(argv, marker, run_env)

    # one unmeasured run each: bytecode compiled, files in the page cache, branding cached
    for argv, marker, run_env in subjects.values():
        run(argv, marker, run_env)
    times: dict[str, list[float]] = {name: [] for name in subjects}
    peaks: dict[str, list[int]] = {name: [] for name in subjects}
    for _ in range(args.rounds):
        for name, (argv, marker, run_env) in subjects.items():  # alternated: the same load
            seconds, peak = run(argv, marker, run_env)
            times[name].append(seconds)
            peaks[name].append(peak)

    print(f"start-up to the first screen, {args.rounds} alternated rounds, 80x24 pty")
    print(f"  the kiosk's code: {kiosk_package(env)}")
    for name in subjects:
        t = times[name]
        print(f"  {name:<20} median {statistics.median(t) * 1000:7.0f} ms   "
              f"min {min(t) * 1000:6.0f} ms   peak RSS {max(peaks[name]) / 1024:6.1f} MiB")
    bare = "bare Textual app"
    bare_time, bare_peak = statistics.median(times[bare]), max(peaks[bare])
    for name in ("kiosk demo", "kiosk run --remote", "kiosk run --remote, first start"):
        ratio = statistics.median(times[name]) / bare_time
        mem = max(peaks[name]) / bare_peak
        print(f"  ratio {name}/bare: time {ratio:.2f} (goal <= 1.3), peak memory {mem:.2f} "
              "(goal <= 1.5)")


if __name__ == "__main__":
    main()
