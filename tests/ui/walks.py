"""Steps the visitor-facing tests share: from the welcome screen to a flow's first screen."""

from __future__ import annotations

from kiosk.screens.identify import IdentifyScreen
from kiosk.screens.password import SignInScreen
from kiosk.screens.register import RegistrationScreen
from kiosk.screens.welcome import WelcomeScreen
from tests.support.pilot import Kiosk

RESET, REGISTER = "1", "3"  # the welcome screen's number keys


async def identify(k: Kiosk, action: str, username: str) -> None:
    """Welcome → `action` → the user name, typed, then Enter."""
    await k.at(WelcomeScreen)
    await k.press(action)
    await k.at(IdentifyScreen)
    await k.type(username)
    await k.enter()


async def to_registration(k: Kiosk, username: str, password: str) -> RegistrationScreen:
    """Signed in to set up security info (an account without methods: erin)."""
    await identify(k, REGISTER, username)
    await k.at(SignInScreen)
    await k.type(password)
    await k.enter()
    screen = await k.at(RegistrationScreen)
    assert isinstance(screen, RegistrationScreen)
    return screen
