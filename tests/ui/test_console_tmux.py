"""The helpdesk console's done-when, in real terminals: `kiosk console --db` and `kiosk demo
--db` on one database file, side by side in tmux. The agent finds a blocked visit by its
support code and lifts the block, issues a pass to erin, and watches her use it at the demo
kiosk (the board shows her visit's step). Every step waits for a screen state, never a time.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.backend import Blocked
from kiosk.engine.demo import shared_demo_engine

from .test_tmux import KIOSK, TMUX, WAIT, Tmux

PASS = re.compile(r"Pass for erin: ([A-Z0-9]{4} [A-Z0-9]{4} [A-Z0-9]{4})")
PASS_CHOICE = re.compile(r"(\d)  I have a temporary access pass")


def blocked_visit(db: Path) -> str:
    """Alice blocked at another kiosk (too many wrong answers): the visit's support code."""
    engine = shared_demo_engine(db, passes={"enabled": True})
    state = engine.session("console:kiosk-2").start("reset", "alice")
    try:
        while True:
            try:
                engine.session("console:kiosk-2").questions(state.flow_id)
                engine.session("console:kiosk-2").answer(state.flow_id, ["no", "no", "no"])
            except Blocked:
                return state.support_code
            except Exception:  # wrong answers: a new set
                continue
    finally:
        engine.db.dispose()


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[Tmux, Tmux, str]]:
    db = tmp_path / "shared.db"
    code = blocked_visit(db)
    name = f"desk-test-{uuid.uuid4().hex[:8]}"
    env = f"env TMPDIR={tmp_path} TERM=xterm-256color"
    agent, kiosk = Tmux(name + "-console"), Tmux(name + "-kiosk")
    agent.run("new-session", "-d", "-s", agent.session, "-x", "110", "-y", "32",
              f"{env} {KIOSK} console --db {db} --agent ann")
    kiosk.run("new-session", "-d", "-s", kiosk.session, "-x", "100", "-y", "30",
              f"{env} {KIOSK} demo --db {db}")
    yield agent, kiosk, code
    for t in (agent, kiosk):
        subprocess.run([TMUX or "tmux", "-L", t.session, "kill-server"], capture_output=True)


@pytest.mark.slow
def test_the_desk_lifts_a_block_and_erin_uses_a_pass(desk: tuple[Tmux, Tmux, str]) -> None:
    agent, kiosk, code = desk
    agent.wait_for("Type the support code the visitor reads out", timeout=2 * WAIT)
    agent.type(code)
    agent.keys("Enter")
    agent.wait_for("BLOCKED: user alice")
    agent.keys("l")
    agent.wait_for("Lift the block of visit")
    agent.type("ID checked in person")
    agent.keys("Enter")
    agent.wait_for("1 block(s) lifted.")

    agent.keys("F3")
    agent.wait_for("Check the person's identity in person first.")
    agent.type("erin")
    agent.keys("C-s")
    found = PASS.search(agent.wait_for(lambda s: PASS.search(s)))
    assert found

    kiosk.wait_for("What would you like to do?", timeout=2 * WAIT)
    kiosk.keys("1")
    kiosk.wait_for("First, tell us who you are.")
    kiosk.type("erin")
    kiosk.keys("Enter")
    choice = PASS_CHOICE.search(kiosk.wait_for(lambda s: PASS_CHOICE.search(s)))
    assert choice
    kiosk.keys(choice.group(1))
    kiosk.wait_for("Enter the temporary access pass the helpdesk gave you.")
    kiosk.type(found.group(1).lower())
    kiosk.keys("Enter")
    kiosk.wait_for("Choose a new password")

    agent.keys("F4")
    screen = agent.wait_for(lambda s: "console:demo" in s and "new_password" in s)
    assert "erin" not in screen  # the board names nobody
    assert "Traceback" not in screen + kiosk.screen()
