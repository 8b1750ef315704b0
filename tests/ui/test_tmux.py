"""A reset walked in a real pseudo-terminal: `kiosk demo` inside tmux, driven by send-keys.

Skipped when tmux is missing, unless CI is set (then it fails: CI must have tmux).

Each step waits for what only the next screen shows (the machine may be busy), never for a
fixed time; keys typed in one screen are handled in order, so only a change of screen or of
the focused field needs a wait before typing on. The deadlines only bound a hang.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
KIOSK = Path(sys.executable).with_name("kiosk")
CODE = re.compile(r"code (\d{4} \d{4})")
WAIT = 60.0  # the outer deadline of a wait

if TMUX is None and not os.environ.get("CI"):
    pytest.skip("tmux is not installed", allow_module_level=True)


class Tmux:
    def __init__(self, session: str) -> None:
        self.session = session

    def run(self, *args: str) -> str:
        """A tmux command on this test's own server (`-L`): it runs the kiosk with this test
        process's environment, not with whatever another tmux server was started with."""
        assert TMUX is not None, "CI needs tmux for this test"
        return subprocess.run([TMUX, "-L", self.session, *args], check=True,
                              capture_output=True, text=True, timeout=WAIT).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def wait_for(self, text: str | Callable[[str], object], timeout: float = WAIT) -> str:
        check = (lambda s: text in s) if isinstance(text, str) else text
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear:\n{screen}")
            time.sleep(0.1)

    def wait_for_focus_below(self, title: str, timeout: float = WAIT) -> None:
        """Until the focused field is the one whose top border carries `title` (Textual puts
        the terminal's cursor in it): keys typed before would go to the previous field."""
        def focused(screen: str) -> bool:
            rows = [i for i, line in enumerate(screen.splitlines()) if title in line]
            cursor_y = int(self.run("display", "-p", "-t", self.session, "#{cursor_y}"))
            return bool(rows) and cursor_y == rows[0] + 1

        self.wait_for(focused, timeout)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.session, "-l", text)


@pytest.fixture
def tmux(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """`kiosk demo` in tmux; `@pytest.mark.term("linux")` sets another TERM."""
    marker = request.node.get_closest_marker("term")
    term = marker.args[0] if marker else "xterm-256color"
    session = f"kiosk-test-{uuid.uuid4().hex[:8]}"
    t = Tmux(session)
    env = f"env TMPDIR={tmp_path} TERM={term}"
    t.run("new-session", "-d", "-s", session, "-x", "80", "-y", "24", f"{env} {KIOSK} demo")
    yield t
    subprocess.run([TMUX or "tmux", "-L", session, "kill-server"], capture_output=True)


@pytest.mark.slow
def test_alice_resets_her_password_in_a_real_terminal(tmux: Tmux, tmp_path: Path) -> None:
    tmux.wait_for("What would you like to do?", timeout=2 * WAIT)  # a cold start compiles
    tmux.keys("1")
    tmux.wait_for("First, tell us who you are.")
    tmux.type("alice")
    tmux.keys("Enter")
    tmux.wait_for("How would you like to prove it is you?")
    tmux.keys("C-c", "C-z", "C-\\", "C-p")  # nothing happens
    tmux.keys("C-q")  # the demo's quit key asks first (issue 13); Escape says no
    tmux.wait_for("Quit the demo?")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Quit the demo?" not in s and "How would you like to prove" in s)
    tmux.keys("1")
    # the code screen, with the code in the demo outbox ("Email a code to" is the one before)
    screen = tmux.wait_for(lambda s: "Enter the 8-digit code" in s and CODE.search(s))
    found = CODE.search(screen)
    assert found, screen
    tmux.type(found.group(1))
    tmux.keys("Enter")
    tmux.wait_for("Choose a new password")
    tmux.type("Tiger lantern harbour 77")
    tmux.wait_for("•" * len("Tiger lantern harbour 77") + " ")
    tmux.keys("Enter")  # to the second field
    tmux.wait_for_focus_below("Type it again")
    tmux.type("Tiger lantern harbour 77")
    tmux.wait_for("✓ Both entries are the same")
    assert "Tiger" not in tmux.screen()  # masked
    tmux.keys("Enter")
    screen = tmux.wait_for("Your password has been changed.")
    assert "Traceback" not in screen
    # the demo wrote nothing outside its temporary directory (TMPDIR is this test's)
    assert any(p.name.startswith("kiosk-demo-") for p in tmp_path.iterdir())


QUESTION_ANSWERS = {"first pet": "rex", "city were you born": "springfield",
                    "childhood nickname": "ally"}


@pytest.mark.slow
@pytest.mark.term("linux")
def test_keys_typed_ahead_land_in_the_field_meant(tmux: Tmux) -> None:
    """Issue 13: one send-keys burst `rex⇥springfield⇥ally⏎`, then `pw⇥pw⏎`, on the Linux
    console's TERM, as a password manager's auto-type or a laggy link delivers them: each
    part reaches its own field (before, all of it landed in the first)."""
    tmux.wait_for("What would you like to do?", timeout=2 * WAIT)
    tmux.keys("1")
    tmux.wait_for("First, tell us who you are.")
    tmux.type("alice")
    tmux.keys("Enter")
    tmux.wait_for("How would you like to prove it is you?")
    tmux.keys("3")
    screen = tmux.wait_for(lambda s: s.count("?") >= 3 and "Answer these questions" in s)
    asked = [line for line in screen.splitlines() if re.match(r"\s+[123]\. ", line)]
    answers = [next(a for q, a in QUESTION_ANSWERS.items() if q in line) for line in asked]
    assert len(answers) == 3, screen
    tmux.keys(answers[0], "Tab", answers[1], "Tab", answers[2], "Enter")  # one burst
    tmux.wait_for("Choose a new password")
    password = "Tiger lantern harbour 77"
    tmux.keys(password, "Tab", password, "Enter")  # one burst
    screen = tmux.wait_for(lambda s: "Your password has been changed." in s
                           or "not the same" in s or "not right" in s)
    assert "Your password has been changed." in screen, screen


@pytest.mark.slow
def test_a_lone_paste_start_does_not_freeze_the_keyboard(tmux: Tmux) -> None:
    """`ESC[200~` without its end (issue 11, item 4): what follows is held as paste text only
    until the paste times out; then the keyboard works again, and the held keys are gone."""
    tmux.wait_for("What would you like to do?", timeout=2 * WAIT)
    tmux.keys("1")
    tmux.wait_for("First, tell us who you are.")
    tmux.run("send-keys", "-t", tmux.session, "-H", "1b", "5b", "32", "30", "30", "7e")
    tmux.type("mallory")  # into the open paste
    typed = 0
    deadline = time.monotonic() + WAIT
    while True:  # the paste ends by itself: typing shows up again (no end marker is ever sent)
        tmux.type("qz")
        typed += 2
        try:
            tmux.wait_for("qz", timeout=3)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
    assert "mallory" not in tmux.screen()  # dropped, not released into the field
    # clear the field, however many of the "qz" typed while the paste was ending got through,
    # and wait for the empty field (its placeholder) before typing the name
    tmux.keys(*["BSpace"] * (typed + 20))
    tmux.wait_for("e.g. jsmith")
    tmux.type("alice")
    tmux.keys("Enter")
    screen = tmux.wait_for("a•••@c•••.org")
    assert "mallory" not in screen and "qz" not in screen


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["TERM", "HUP"])
def test_a_killed_kiosk_leaves_the_terminal_as_it_was(tmp_path: Path, signame: str) -> None:
    """Issue 13: after SIGTERM/SIGHUP the pane is out of the alternate screen, with mouse
    reporting off (the kiosk runs under a shell that stays, so the pane can be inspected)."""
    session = f"kiosk-test-{uuid.uuid4().hex[:8]}"
    t = Tmux(session)
    env = f"env TMPDIR={tmp_path} TERM=xterm-256color"
    t.run("new-session", "-d", "-s", session, "-x", "80", "-y", "24",
          f"sh -c '{env} {KIOSK} demo; echo kiosk-ended; sleep 600'")
    try:
        t.wait_for("What would you like to do?", timeout=2 * WAIT)

        def flags() -> str:
            return t.run("display", "-p", "-t", session,
                         "#{alternate_on} #{mouse_any_flag}").strip()

        assert flags() == "1 1"  # the kiosk's own terminal modes, as a baseline
        shell = t.run("display", "-p", "-t", session, "#{pane_pid}").strip()
        kiosk = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True,
                               check=True).stdout.split()
        assert kiosk, "no kiosk process under the pane's shell"
        subprocess.run(["kill", f"-{signame}", *kiosk], check=True)
        t.wait_for("kiosk-ended")
        assert flags() == "0 0"
    finally:
        subprocess.run([TMUX or "tmux", "-L", session, "kill-server"], capture_output=True)
