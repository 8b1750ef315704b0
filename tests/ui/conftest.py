"""Fixtures for the UI tests: the real EmbeddedBackend on a demo database in tmp_path, a frozen
clock shared by the engine and the app (countdowns are deterministic), `drive`, which runs an
app under Pilot with its driver (tests/support/pilot.py), and `tmux`, a private tmux server for
the tests in real terminals (tests/support/terminal.py)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.app import KioskApp
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from tests.support.engine import make_engine
from tests.support.pilot import TERMINAL, Drive, MakeApp, driving
from tests.support.terminal import Tmux, private_tmux


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def engine(request: pytest.FixtureRequest, tmp_path: Path,
           clock: FrozenClock) -> Iterator[Engine]:
    """The demo engine; `@pytest.mark.policy(section={...})` overrides policy sections."""
    marker = request.node.get_closest_marker("policy")
    engine = make_engine(tmp_path, clock, **(marker.kwargs if marker else {}))
    yield engine
    engine.db.dispose()


@pytest.fixture
def backend(engine: Engine) -> EmbeddedBackend:
    return EmbeddedBackend(engine, terminal=TERMINAL)


@pytest.fixture
def make_app(backend: EmbeddedBackend, clock: FrozenClock, tmp_path: Path) -> MakeApp:
    def make(**kwargs: Any) -> KioskApp:
        kwargs.setdefault("clock", clock.now)
        kwargs.setdefault("log_path", tmp_path / "kiosk.log")
        return KioskApp(kwargs.pop("backend", backend), **kwargs)

    return make


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The terminal's local time zone is Europe/Berlin (clock times are shown in it)."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixed codes, support codes, question order and authenticator secret (screenshots)."""
    monkeypatch.setattr("kiosk.engine.methods.codes.new_code", lambda length: "12345678"[:length])
    monkeypatch.setattr("kiosk.engine.stages.identify.uuid.uuid4", lambda: UUID(int=0x5EED))
    monkeypatch.setattr("kiosk.engine.methods.questions._random", random.Random(4))
    monkeypatch.setattr("kiosk.engine.stages.register.totp.new_secret",
                        lambda: "KIOSKDEMOSECRETKIOSKDEMOSECRETAB")


@pytest.fixture
def drive(make_app: MakeApp) -> Drive:
    """`async with drive(**app_options) as k:` the app under Pilot at SIZE, and its driver."""
    return lambda **options: driving(make_app(**options))


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    """A private tmux server; without tmux the test skips, except in CI, where it fails."""
    with private_tmux(tmp_path) as mux:
        yield mux
