"""The helpdesk console's done-when, in real terminals: `kiosk console --db` and `kiosk demo
--db` on one database file, side by side in tmux. The agent finds a blocked visit by its
support code and lifts the block, issues a pass to erin, and watches her use it at the demo
kiosk (the board shows her visit's step). Every step waits for a screen state, never a time.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.engine.demo import shared_demo_engine
from tests.support.engine import block
from tests.support.terminal import START, Pane, Tmux, identify, open_kiosk

PASS = re.compile(r"Pass for erin: ([A-Z0-9]{4} [A-Z0-9]{4} [A-Z0-9]{4})")
PASS_CHOICE = re.compile(r"(\d)  I have a temporary access pass")


def blocked_visit(db: Path) -> str:
    """Alice blocked at another kiosk (too many wrong answers): the visit's support code."""
    engine = shared_demo_engine(db, passes={"enabled": True})
    try:
        return block(engine, "alice", "console:kiosk-2")
    finally:
        engine.db.dispose()


@pytest.fixture
def desk(tmux: Tmux, tmp_path: Path) -> tuple[Pane, Pane, str]:
    """The console (agent ann) and the demo kiosk on one database, with a blocked visit's code."""
    db = tmp_path / "shared.db"
    code = blocked_visit(db)
    agent = open_kiosk(tmux, "console", "console", "--db", db, "--agent", "ann",
                       workdir=tmp_path, cols=110, rows=32)
    kiosk = open_kiosk(tmux, "kiosk", "demo", "--db", db, workdir=tmp_path, cols=100, rows=30)
    return agent, kiosk, code


@pytest.mark.slow
def test_the_desk_lifts_a_block_and_erin_uses_a_pass(desk: tuple[Pane, Pane, str]) -> None:
    agent, kiosk, code = desk
    agent.wait_for("Type the support code the visitor reads out", timeout=START)
    agent.type(code)
    agent.send("Enter")
    agent.wait_for("BLOCKED: user alice")
    agent.send("l")
    agent.wait_for("Lift the block of visit")
    agent.type("ID checked in person")
    agent.send("Enter")
    agent.wait_for("1 block(s) lifted.")

    agent.send("F3")
    agent.wait_for("Check the person's identity in person first.")
    agent.type("erin")
    agent.send("C-s")
    found = PASS.search(agent.wait_for(lambda s: PASS.search(s)))
    assert found

    kiosk.wait_for("What would you like to do?", timeout=START)
    identify(kiosk, "erin")
    choice = PASS_CHOICE.search(kiosk.wait_for(lambda s: PASS_CHOICE.search(s)))
    assert choice
    kiosk.send(choice.group(1))
    kiosk.wait_for("Enter the temporary access pass the helpdesk gave you.")
    kiosk.type(found.group(1).lower())
    kiosk.send("Enter")
    kiosk.wait_for("Choose a new password")

    agent.send("F4")
    screen = agent.wait_for(lambda s: "console:demo" in s and "new_password" in s)
    assert "erin" not in screen  # the board names nobody
    assert "Traceback" not in screen + kiosk.screen()
