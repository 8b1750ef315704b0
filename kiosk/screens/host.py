"""The app as the screens see it, so that no screen imports kiosk.app.

Navigation goes by the typed messages below: a screen posts one to the app, which carries it
out on its own message loop (a screen's handler must never await its own removal). What a
screen reads of the app, and the backend calls it makes through the app's error handling,
are the `Kiosk` protocol; `KioskApp` implements both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from textual.message import Message
from textual.screen import Screen

from kiosk.backend import Backend, Branding, KioskError, Purpose

if TYPE_CHECKING:  # a pydantic model: loaded after the first frame
    from kiosk.backend import FlowState

T = TypeVar("T")

OnError = Callable[[KioskError], Awaitable[bool] | bool]


class Kiosk(Protocol):
    """The visit's state and the backend calls a screen makes (see kiosk.app.KioskApp)."""

    backend: Backend
    branding: Branding
    flow: FlowState | None
    username: str
    clock: Callable[[], datetime]
    done_timeout: float

    async def start_flow(self, purpose: Purpose, username: str) -> None: ...

    async def attempt(self, call: Awaitable[T], *, on_error: OnError | None = None) -> T | None:
        """Await a backend call; on an error show it the right way and return None."""

    async def proceed(self, call: Awaitable[FlowState], *,
                      on_error: OnError | None = None) -> None:
        """Make a flow call and, when it succeeds, go to the screen of the new step."""

    async def advance(self, state: FlowState) -> None: ...

    async def show_failure(self, error: BaseException) -> None: ...


class ShowScreen(Message):
    """Push `screen` over the current one."""

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.screen = screen


class GoBack(Message):
    """Pop the top screen; `error` is then said on the screen below."""

    def __init__(self, error: str = "") -> None:
        super().__init__()
        self.error = error


class StartOver(Message):
    """A new visit: cancel any open flow, a brand-new welcome screen (then `then`)."""

    def __init__(self, *, keep_language: bool = False, notice: str = "",
                 then: Screen | None = None) -> None:
        super().__init__()
        self.keep_language = keep_language
        self.notice = notice
        self.then = then


class CancelFlow(Message):
    """Cancel the flow, back to a blank user-name screen; `confirm`: ask first."""

    def __init__(self, *, confirm: bool = False) -> None:
        super().__init__()
        self.confirm = confirm


class ShowHelp(Message):
    """F1: the help dialog, with what `topic` (a catalogue key) says about the screen."""

    def __init__(self, topic: str = "") -> None:
        super().__init__()
        self.topic = topic


class ChangeLanguage(Message):
    def __init__(self, language: str) -> None:
        super().__init__()
        self.language = language


class RetryBranding(Message):
    """The backend could not be reached at start-up: close the problem screen, try again."""
