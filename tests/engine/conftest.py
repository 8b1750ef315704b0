"""Fixtures for engine tests: a demo engine on a frozen clock, with cheap argon2."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kiosk.backend import FlowState
from kiosk.engine.clock import FrozenClock
from kiosk.engine.demo import build_demo_engine
from kiosk.engine.engine import Engine

CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
TERMINAL = "console:test"
CODE = re.compile(r"\b(\d{4}) (\d{4})\b")
SPOKEN = re.compile(r"\b\d(?:[,.] \d){7}\b")  # a voice call reads "1, 2, 3, 4. 5, 6, 7, 8"


def make_engine(tmp_path: Path, clock: FrozenClock | None = None, **overrides: Any) -> Engine:
    overrides.setdefault("security", CHEAP_ARGON2)
    return build_demo_engine(tmp_path, clock=clock or FrozenClock(), **overrides)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def engine(tmp_path: Path, clock: FrozenClock) -> Engine:
    return make_engine(tmp_path, clock)


def last_code(engine: Engine, recipient: str | None = None) -> str:
    """The newest code the outbox holds (for `recipient`, if given)."""
    for message in engine.outbox_messages(50):
        if recipient is None or message.recipient == recipient:
            found = CODE.search(message.body)
            if found:
                return found.group(1) + found.group(2)
            spoken = SPOKEN.search(message.body)
            if spoken:
                return "".join(ch for ch in spoken.group(0) if ch.isdigit())
    raise AssertionError("no code in the outbox")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**len(code):0{len(code)}d}"


def email_gate(engine: Engine, state: FlowState, terminal: str = TERMINAL) -> FlowState:
    state = engine.session(terminal).send_code(state.flow_id, "email", "email")
    assert state.challenge is not None
    return engine.session(terminal).verify_code(state.flow_id, state.challenge.id,
                                                last_code(engine))
