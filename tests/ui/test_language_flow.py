"""The language chosen on the Welcome screen reaches the engine's messages (issue 13): the code
a German visitor is emailed is German, and the next visitor's is English again."""

from __future__ import annotations

from kiosk.engine.engine import Engine
from kiosk.screens.identify import IdentifyScreen
from kiosk.screens.verify import ChooseMethodScreen, EnterCodeScreen
from kiosk.screens.welcome import WelcomeScreen
from tests.support.pilot import Drive, Kiosk


def subjects(engine: Engine, recipient: str) -> list[str]:
    return [m.subject for m in reversed(engine.outbox_messages(50)) if m.recipient == recipient]


async def email_a_code(k: Kiosk, username: str) -> None:
    await k.at(WelcomeScreen)
    await k.press("1")  # reset
    await k.at(IdentifyScreen)
    await k.type(username)
    await k.enter()
    await k.at(ChooseMethodScreen)
    await k.press("1")  # email
    await k.at(EnterCodeScreen)


async def test_a_german_visitor_is_emailed_a_german_code(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await k.at(WelcomeScreen)
        await k.press("6")  # Deutsch
        await k.sees("Was möchten Sie tun?")
        await email_a_code(k, "alice")
        await k.until(lambda: bool(subjects(engine, "alice@contoso.org")), "the code email")
        assert subjects(engine, "alice@contoso.org") == [
            "Contoso (training): Ihr Code für die Passwortzurücksetzung"]


async def test_an_english_visitor_is_emailed_an_english_code(drive: Drive,
                                                             engine: Engine) -> None:
    async with drive() as k:
        await email_a_code(k, "alice")
        await k.until(lambda: bool(subjects(engine, "alice@contoso.org")), "the code email")
        assert subjects(engine, "alice@contoso.org") == [
            "Contoso (training): your password reset code"]
