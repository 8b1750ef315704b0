"""Driving a KioskApp (or the helpdesk console) under Pilot like a person at the keyboard, and
what the UI tests share: the terminal's name and size, the demo's answers, and reading codes
from the demo outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Generic, TypeVar

from textual import events
from textual.app import App
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.screen import Screen

from kiosk.app import KioskApp
from kiosk.demo_users import BOB_TOTP_SECRET
from tests.support.engine import last_code, wrong

__all__ = ["ANSWERS", "BOB_TOTP_SECRET", "NEW_PASSWORD", "SIZE", "TERMINAL", "Drive", "Kiosk",
           "MakeApp", "driving", "last_code", "screen_text", "wrong"]

TERMINAL = "console:ui-test"
SIZE = (80, 24)
NEW_PASSWORD = "Harbour kiosk lantern 2041"
ANSWERS = {"pet": "rex", "city": "springfield", "nickname": "ally"}

MakeApp = Callable[..., KioskApp]
AppT = TypeVar("AppT", bound=App[Any])


def screen_text(app: App[Any]) -> str:
    """What the terminal shows, as plain text."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


class Kiosk(Generic[AppT]):
    """Drives an app like a person at the keyboard, waiting for the backend's threads."""

    def __init__(self, app: AppT, pilot: Pilot[Any]) -> None:
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
        # a KioskApp is busy while a backend call runs: the screen may change again after it
        await self.until(lambda: isinstance(self.app.screen, screen)
                         and not getattr(self.app, "_busy", False), screen.__name__, timeout)
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

    def enter_while_busy(self) -> None:
        """Enter as the terminal sends it, without Pilot's wait for the app to go idle: for a
        submit whose backend call is held up (the app stays busy until it returns)."""
        enter = events.Key("enter", "\r")
        enter.set_sender(self.app)
        self.app._driver.send_message(enter)  # type: ignore[union-attr]


@asynccontextmanager
async def driving(app: AppT, size: tuple[int, int] = SIZE) -> AsyncIterator[Kiosk[AppT]]:
    """`app` running under Pilot (headless, at `size`), with its driver."""
    async with app.run_test(size=size) as pilot:
        yield Kiosk(app, pilot)


# the `drive` fixture (tests/ui/conftest.py): `async with drive(**app_options) as k:`
Drive = Callable[..., AbstractAsyncContextManager[Kiosk[KioskApp]]]
