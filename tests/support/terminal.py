"""Driving programs in real terminals: a private tmux server for each test, windows (panes) in
it running `kiosk`, `ssh` or a session script, and waits on what a pane shows.

The tests wait on states (text only the expected screen shows, the cursor in a field), never
on a fixed pause: the machine may be busy. The deadlines are generous; they only bound a hang.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

WAIT = 60.0  # the outer deadline of a wait: long enough for a busy machine, it only bounds a hang
START = 2 * WAIT  # the first screen of a cold start, which may compile the whole package first
KIOSK = str(Path(sys.executable).with_name("kiosk"))  # this environment's `kiosk` command


def need(tool: str) -> str:
    """The path of `tool`; without it the test skips, except in CI (CI=true), where it fails:
    scripts/services.sh installs it there."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{tool} is not installed: scripts/services.sh installs it in CI")
        pytest.skip(f"{tool} is not installed")
    return path


class Tmux:
    """A private tmux server (its own socket and config): its windows run with this test
    process's environment, not with whatever another tmux server was started with."""

    def __init__(self, workdir: Path, binary: str = "tmux") -> None:
        self.binary = binary
        self.socket = f"kiosk-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.conf = workdir / "tmux.conf"
        # no status line: a window of 80x24 gives the program all 24 rows
        self.conf.write_text("set -g status off\nset -g remain-on-exit on\n", encoding="utf-8")

    def run(self, *args: str, check: bool = True) -> str:
        result = subprocess.run([self.binary, "-L", self.socket, "-f", str(self.conf), *args],
                                capture_output=True, text=True, timeout=WAIT)
        if check and result.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {result.stderr}")
        return result.stdout

    def open(self, name: str, command: str, *, cols: int = 80, rows: int = 24,
             env: Mapping[str, str] | None = None, unset: Sequence[str] = (),
             cwd: Path | None = None, stay: str | None = None) -> Pane:
        """A window `name` of cols x rows running the shell line `command`, with `env` set and
        `unset` removed. With `stay`, the window outlives the command: the shell around it says
        `[<stay> exited STATUS]` and waits, so its last screen can still be read."""
        if stay is not None:
            command = f'{command}; echo "[{stay} exited $?]"; sleep 600'
        where = ["-c", str(cwd)] if cwd is not None else []
        environment = ["env", *[arg for var in unset for arg in ("-u", var)],
                       *[f"{key}={value}" for key, value in (env or {}).items()]]
        self.run("new-session", "-d", "-s", name, *where, "-x", str(cols), "-y", str(rows),
                 *environment, "sh", "-c", command)
        return Pane(self, name, stay)

    def kill_server(self) -> None:
        self.run("kill-server", check=False)


@contextmanager
def private_tmux(workdir: Path) -> Iterator[Tmux]:
    """A private tmux server for one test (the `tmux` fixtures), killed with its windows after."""
    mux = Tmux(workdir, need("tmux"))
    try:
        yield mux
    finally:
        mux.kill_server()


class Pane:
    """One window of a Tmux server: what it shows, and the keys typed into it."""

    def __init__(self, tmux: Tmux, name: str, stay: str | None = None) -> None:
        self.tmux, self.name, self.stay = tmux, name, stay

    def display(self, fmt: str) -> str:
        """A tmux format (`#{cursor_y}`, `#{pane_pid}`, ...) for this pane."""
        return self.tmux.run("display", "-p", "-t", self.name, fmt).strip()

    def screen(self, escapes: bool = False) -> str:
        """The visible text; with `escapes`, with its colour and attribute sequences."""
        return self.tmux.run("capture-pane", "-p", *(["-e"] if escapes else []), "-t", self.name)

    def lines(self) -> list[str]:
        return self.screen().splitlines()

    def wait_for(self, text: str | Callable[[str], object], timeout: float = WAIT) -> str:
        """The screen once it shows `text` (or once `text(screen)` is true)."""
        check = (lambda s: text in s) if isinstance(text, str) else text
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout} s for {text!r}; the screen:\n{screen}")
            time.sleep(0.1)

    def cursor(self) -> tuple[int, int]:
        """Where the terminal's cursor is (column, row): Textual puts it in the focused field."""
        x, y = self.display("#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def wait_for_focus_below(self, title: str, timeout: float = WAIT) -> None:
        """Until the focused field is the one whose top border carries `title`: keys typed
        before the focus has moved would still go to the previous field."""
        def focused(screen: str) -> bool:
            rows = [i for i, line in enumerate(screen.splitlines()) if title in line]
            return bool(rows) and self.cursor()[1] == rows[0] + 1

        self.wait_for(focused, timeout)

    def send(self, *keys: str) -> None:
        """tmux key names ("Enter", "C-c", "Tab"); a word that is no key name is typed."""
        self.tmux.run("send-keys", "-t", self.name, *keys)

    def type(self, text: str) -> None:
        self.tmux.run("send-keys", "-t", self.name, "-l", text)

    def send_bytes(self, data: bytes) -> None:
        """Raw bytes, as a terminal would send them (an escape sequence, say)."""
        self.tmux.run("send-keys", "-t", self.name, "-H", *[f"{b:02x}" for b in data])

    def resize(self, cols: int, rows: int) -> None:
        self.tmux.run("resize-window", "-t", self.name, "-x", str(cols), "-y", str(rows))

    def size(self) -> tuple[int, int]:
        cols, rows = self.display("#{window_width} #{window_height}").split()
        return int(cols), int(rows)

    def modes(self) -> str:
        """Alternate screen, mouse reporting: "1 1" while a Textual app runs, "0 0" in a shell."""
        return self.display("#{alternate_on} #{mouse_any_flag}")

    def pid(self) -> int:
        """The process the window started (the shell around the command)."""
        return int(self.display("#{pane_pid}"))

    def exited(self) -> bool:
        """The command of a window opened with `stay` has ended."""
        assert self.stay is not None, "only a window opened with `stay` says when it ends"
        return f"[{self.stay} exited" in self.screen()

    def kill(self) -> None:
        self.tmux.run("kill-session", "-t", self.name, check=False)


# ---------------------------------------------------------------------- the kiosk in a terminal
def open_kiosk(tmux: Tmux, name: str, *args: str | Path, workdir: Path,
               term: str = "xterm-256color", cols: int = 80, rows: int = 24,
               stay: str | None = None) -> Pane:
    """`kiosk ARGS` in a new window, on terminal type `term`, its temporary files (the demo's
    database) in `workdir`. Its first screen may take up to START on a cold start."""
    return tmux.open(name, shlex.join([KIOSK, *map(str, args)]), cols=cols, rows=rows,
                     env={"TMPDIR": str(workdir), "TERM": term}, stay=stay)


def identify(pane: Pane, username: str) -> None:
    """From the kiosk's welcome screen: "I forgot my password", then `username` typed into the
    identify screen and sent. The caller waits for the screen it expects next."""
    pane.send("1")
    pane.wait_for("User name")  # the identify screen's field (the welcome screen has none)
    pane.type(username)
    pane.send("Enter")
