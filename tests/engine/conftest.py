"""Fixtures for engine tests: a demo engine on a frozen clock, with cheap argon2
(tests/support/engine.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from tests.support.engine import make_engine


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def engine(tmp_path: Path, clock: FrozenClock) -> Engine:
    return make_engine(tmp_path, clock)
