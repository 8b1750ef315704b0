"""A reset walked in a real pseudo-terminal: `kiosk demo` inside tmux, driven by send-keys.

Skipped when tmux is missing, unless CI is set (then it fails: CI must have tmux).

Each step waits for what only the next screen shows (the machine may be busy), never for a
fixed time; keys typed in one screen are handled in order, so only a change of screen or of
the focused field needs a wait before typing on. The deadlines only bound a hang.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.terminal import START, WAIT, Pane, Tmux, identify, open_kiosk

CODE = re.compile(r"code (\d{4} \d{4})")
FIRST = "What would you like to do?"  # the welcome screen's


@pytest.fixture
def demo(tmux: Tmux, tmp_path: Path, request: pytest.FixtureRequest) -> Pane:
    """`kiosk demo` in tmux, at its welcome screen; `@pytest.mark.term("linux")` sets another
    TERM."""
    marker = request.node.get_closest_marker("term")
    pane = open_kiosk(tmux, "demo", "demo", workdir=tmp_path,
                      term=marker.args[0] if marker else "xterm-256color")
    pane.wait_for(FIRST, timeout=START)
    return pane


@pytest.mark.slow
def test_alice_resets_her_password_in_a_real_terminal(demo: Pane, tmp_path: Path) -> None:
    identify(demo, "alice")
    demo.wait_for("How would you like to prove it is you?")
    demo.send("C-c", "C-z", "C-\\", "C-p")  # nothing happens
    demo.send("C-q")  # the demo's quit key asks first (issue 13); Escape says no
    demo.wait_for("Quit the demo?")
    demo.send("Escape")
    demo.wait_for(lambda s: "Quit the demo?" not in s and "How would you like to prove" in s)
    demo.send("1")
    # the code screen, with the code in the demo outbox ("Email a code to" is the one before)
    screen = demo.wait_for(lambda s: "Enter the 8-digit code" in s and CODE.search(s))
    found = CODE.search(screen)
    assert found, screen
    demo.type(found.group(1))
    demo.send("Enter")
    demo.wait_for("Choose a new password")
    demo.type("Tiger lantern harbour 77")
    demo.wait_for("•" * len("Tiger lantern harbour 77") + " ")
    demo.send("Enter")  # to the second field
    demo.wait_for_focus_below("Type it again")
    demo.type("Tiger lantern harbour 77")
    demo.wait_for("✓ Both entries are the same")
    assert "Tiger" not in demo.screen()  # masked
    demo.send("Enter")
    screen = demo.wait_for("Your password has been changed.")
    assert "Traceback" not in screen
    # the demo wrote nothing outside its temporary directory (TMPDIR is this test's)
    assert any(p.name.startswith("kiosk-demo-") for p in tmp_path.iterdir())


QUESTION_ANSWERS = {"first pet": "rex", "city were you born": "springfield",
                    "childhood nickname": "ally"}


@pytest.mark.slow
@pytest.mark.term("linux")
def test_keys_typed_ahead_land_in_the_field_meant(demo: Pane) -> None:
    """Issue 13: one send-keys burst `rex⇥springfield⇥ally⏎`, then `pw⇥pw⏎`, on the Linux
    console's TERM, as a password manager's auto-type or a laggy link delivers them: each
    part reaches its own field (before, all of it landed in the first)."""
    identify(demo, "alice")
    demo.wait_for("How would you like to prove it is you?")
    demo.send("3")
    screen = demo.wait_for(lambda s: s.count("?") >= 3 and "Answer these questions" in s)
    asked = [line for line in screen.splitlines() if re.match(r"\s+[123]\. ", line)]
    answers = [next(a for q, a in QUESTION_ANSWERS.items() if q in line) for line in asked]
    assert len(answers) == 3, screen
    demo.send(answers[0], "Tab", answers[1], "Tab", answers[2], "Enter")  # one burst
    demo.wait_for("Choose a new password")
    password = "Tiger lantern harbour 77"
    demo.send(password, "Tab", password, "Enter")  # one burst
    screen = demo.wait_for(lambda s: "Your password has been changed." in s
                           or "not the same" in s or "not right" in s)
    assert "Your password has been changed." in screen, screen


@pytest.mark.slow
def test_a_lone_paste_start_does_not_freeze_the_keyboard(demo: Pane) -> None:
    """`ESC[200~` without its end (issue 11, item 4): what follows is held as paste text only
    until the paste times out; then the keyboard works again, and the held keys are gone."""
    demo.send("1")
    demo.wait_for("First, tell us who you are.")
    demo.send_bytes(b"\x1b[200~")
    demo.type("mallory")  # into the open paste
    typed = 0
    deadline = time.monotonic() + WAIT
    while True:  # the paste ends by itself: typing shows up again (no end marker is ever sent)
        demo.type("qz")
        typed += 2
        try:
            demo.wait_for("qz", timeout=3)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
    assert "mallory" not in demo.screen()  # dropped, not released into the field
    # clear the field, however many of the "qz" typed while the paste was ending got through,
    # and wait for the empty field (its placeholder) before typing the name
    demo.send(*["BSpace"] * (typed + 20))
    demo.wait_for("e.g. jsmith")
    demo.type("alice")
    demo.send("Enter")
    screen = demo.wait_for("a•••@c•••.org")
    assert "mallory" not in screen and "qz" not in screen


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["TERM", "HUP"])
def test_a_killed_kiosk_leaves_the_terminal_as_it_was(tmux: Tmux, tmp_path: Path,
                                                        signame: str) -> None:
    """Issue 13: after SIGTERM/SIGHUP the pane is out of the alternate screen, with mouse
    reporting off (the kiosk runs under a shell that stays, so the pane can be inspected)."""
    pane = open_kiosk(tmux, "killed", "demo", workdir=tmp_path, stay="kiosk")
    pane.wait_for(FIRST, timeout=START)
    assert pane.modes() == "1 1"  # the kiosk's own terminal modes, as a baseline
    kiosk = subprocess.run(["pgrep", "-P", str(pane.pid())], capture_output=True, text=True,
                           check=True).stdout.split()
    assert kiosk, "no kiosk process under the pane's shell"
    subprocess.run(["kill", f"-{signame}", *kiosk], check=True)
    pane.wait_for("[kiosk exited")
    assert pane.modes() == "0 0"
