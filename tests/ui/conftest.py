"""Fixtures for the UI tests: the real EmbeddedBackend on a demo database in tmp_path, a frozen
clock shared by the engine and the app (countdowns are deterministic), and a small driver."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.screen import Screen

from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.app import KioskApp
from kiosk.engine.clock import FrozenClock
from kiosk.engine.demo import build_demo_engine
from kiosk.engine.engine import Engine

CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
TERMINAL = "console:ui-test"
SIZE = (80, 24)
NEW_PASSWORD = "Harbour kiosk lantern 2041"
ANSWERS = {"pet": "rex", "city": "springfield", "nickname": "ally"}
BOB_TOTP_SECRET = "JBSWY3DPEHPK3PXP"

MakeApp = Callable[..., KioskApp]

_CODE = re.compile(r"\b(\d{4}) (\d{4})\b")
_SPOKEN = re.compile(r"\b\d(?:[,.] \d){7}\b")


def make_engine(tmp_path: Path, clock: FrozenClock, **overrides: Any) -> Engine:
    overrides.setdefault("security", CHEAP_ARGON2)
    return build_demo_engine(tmp_path, clock=clock, **overrides)


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


def last_code(engine: Engine, recipient: str | None = None) -> str:
    """The newest code in the demo outbox (for `recipient`, if given)."""
    for message in engine.outbox_messages(50):
        if recipient is None or message.recipient == recipient:
            found = _CODE.search(message.body)
            if found:
                return found.group(1) + found.group(2)
            spoken = _SPOKEN.search(message.body)
            if spoken:
                return "".join(ch for ch in spoken.group(0) if ch.isdigit())
    raise AssertionError("no code in the outbox")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def screen_text(app: KioskApp) -> str:
    """What the terminal shows, as plain text."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


class Kiosk:
    """Drives a KioskApp like a person at the keyboard, waiting for the backend's threads."""

    def __init__(self, app: KioskApp, pilot: Pilot) -> None:
        self.app = app
        self.pilot = pilot

    async def until(self, check: Callable[[], bool], what: str = "", timeout: float = 10) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.pilot.pause()
            try:
                if check():
                    return
            except Exception:  # the screen may be between states
                pass
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what or check}:\n{self.text}")
            await asyncio.sleep(0.02)

    async def at(self, screen: type[Screen], timeout: float = 10) -> Screen:
        await self.until(lambda: isinstance(self.app.screen, screen) and not self.app._busy,
                         screen.__name__, timeout)
        await self.pilot.pause()
        return self.app.screen

    async def sees(self, text: str, timeout: float = 10) -> None:
        await self.until(lambda: text in self.text, repr(text), timeout)

    @property
    def text(self) -> str:
        return screen_text(self.app)

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.pilot.pause()

    async def type(self, text: str) -> None:
        """Type `text` key by key (queued at once: Pilot.press waits for idle after each key,
        which costs ~90 ms a key; the app still handles every key in order)."""
        driver = self.app._driver
        assert driver is not None
        for char in text:
            key = char if char.isalnum() else _character_to_key(char)
            event = events.Key(key, char)
            event.set_sender(self.app)
            driver.send_message(event)
        await self.pilot.pause()

    async def focus(self, selector: str) -> None:
        self.app.screen.query_one(selector).focus()
        await self.pilot.pause()

    async def paste(self, text: str) -> None:
        """What a terminal sends for a paste (bracketed paste), to the focused field."""
        focused = self.app.focused
        assert focused is not None, "nothing has the focus"
        focused.post_message(events.Paste(text))
        await self.pilot.pause()

    async def enter(self) -> None:
        await self.press("enter")
