"""What the engine-level tests share: a demo engine with cheap argon2 on a frozen clock, and
reading the codes it sent from the demo outbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kiosk.backend import Blocked, FlowState, WrongAnswers
from kiosk.engine.clock import FrozenClock
from kiosk.engine.demo import build_demo_engine
from kiosk.engine.engine import Engine

__all__ = ["CHEAP_ARGON2", "TERMINAL", "block", "drawn_questions", "email_gate", "last_code",
           "make_engine", "wrong"]

# argon2 at its cheapest: the tests measure behaviour, not the hash's cost
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
TERMINAL = "console:test"
_CODE = re.compile(r"\b(\d{4}) (\d{4})\b")
_SPOKEN = re.compile(r"\b\d(?:[,.] \d){7}\b")  # a voice call reads "1, 2, 3, 4. 5, 6, 7, 8"


def make_engine(folder: Path, clock: FrozenClock | None = None, **overrides: Any) -> Engine:
    """The demo engine in `folder`; keyword arguments override policy sections."""
    overrides.setdefault("security", CHEAP_ARGON2)
    return build_demo_engine(folder, clock=clock or FrozenClock(), **overrides)


def last_code(engine: Engine, recipient: str | None = None) -> str:
    """The newest code in the demo outbox (for `recipient`, if given)."""
    for message in engine.outbox_messages(200):
        if recipient is None or message.recipient == recipient:
            found = _CODE.search(message.body)
            if found:
                return found.group(1) + found.group(2)
            spoken = _SPOKEN.search(message.body)
            if spoken:
                return "".join(ch for ch in spoken.group(0) if ch.isdigit())
    raise AssertionError(f"no code for {recipient or 'anyone'} in the outbox")


def wrong(code: str) -> str:
    """A code of the same length that is not `code`."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def email_gate(engine: Engine, state: FlowState | str, terminal: str = TERMINAL,
               recipient: str | None = None) -> FlowState:
    """Pass the flow's email gate with the code the outbox holds (for `recipient`, if given)."""
    flow_id = state if isinstance(state, str) else state.flow_id
    state = engine.session(terminal).send_code(flow_id, "email", "email")
    assert state.challenge is not None
    return engine.session(terminal).verify_code(flow_id, state.challenge.id,
                                                last_code(engine, recipient))


def block(engine: Engine, username: str, terminal: str = TERMINAL) -> str:
    """A reset visit of `username` blocked after too many wrong answers: its support code."""
    session = engine.session(terminal)
    state = session.start("reset", username)
    while True:
        try:
            session.questions(state.flow_id)
            session.answer(state.flow_id, ["no", "no", "no"])
        except Blocked:
            return state.support_code
        except WrongAnswers:  # a new set is drawn
            continue


def drawn_questions(engine: Engine, username: str, visits: int,
                    terminal: str = TERMINAL) -> list[tuple[str, ...]]:
    """The question ids each of `visits` resets of `username` is asked (each visit is
    cancelled once asked, as a visitor walking away would leave it)."""
    session = engine.session(terminal)
    drawn = []
    for _ in range(visits):
        flow = session.start("reset", username).flow_id
        drawn.append(tuple(q.id for q in session.questions(flow).questions))
        session.cancel(flow)
    return drawn
