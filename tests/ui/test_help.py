"""Help where the visitor is (issue 13): F1 speaks about the screen it is opened on, the footer
names the number keys that really choose something here, and the helpdesk's phone number is
never broken over two lines."""

from __future__ import annotations

import inspect

import pytest

import kiosk.screens.identify
import kiosk.screens.outcome
import kiosk.screens.password
import kiosk.screens.register
import kiosk.screens.verify
import kiosk.screens.welcome
from kiosk.engine.engine import Engine
from kiosk.i18n import catalogue
from kiosk.screens.base import KioskScreen
from kiosk.screens.dialogs import HelpScreen
from kiosk.screens.host import ShowScreen
from kiosk.screens.identify import IdentifyScreen
from kiosk.screens.outcome import ProblemScreen
from kiosk.screens.verify import ChooseMethodScreen, EnterCodeScreen, QuestionsScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.widgets.chrome import KeyHints
from kiosk.widgets.unbroken import wrap_keeping_numbers
from tests.support.pilot import Kiosk, MakeApp, last_code

from .walks import RESET, identify

HELPDESK_PHONE = "+1 425 555 0100"  # in the demo's helpdesk text
MODULES = (kiosk.screens.identify, kiosk.screens.outcome, kiosk.screens.password,
           kiosk.screens.register, kiosk.screens.verify, kiosk.screens.welcome)


def footer(k: Kiosk) -> str:
    return str(k.app.screen.query_one(KeyHints).render())


async def to_methods(k: Kiosk, user: str) -> None:
    await identify(k, RESET, user)
    await k.at(ChooseMethodScreen)


async def help_text(k: Kiosk) -> str:
    await k.press("f1")
    dialog = await k.at(HelpScreen)
    text = str(dialog.query_one("#screen-help").render())
    await k.press("escape")
    await k.until(lambda: not isinstance(k.app.screen, HelpScreen), "the help to close")
    return text


def test_every_screen_has_help_of_its_own() -> None:
    screens = [cls for module in MODULES
               for _, cls in inspect.getmembers(module, inspect.isclass)
               if issubclass(cls, KioskScreen) and cls.__module__ == module.__name__
               and "compose_body" in vars(cls)]
    assert len(screens) >= 14
    topics = {cls.__name__: cls.HELP for cls in screens}
    assert all(topics.values()), topics
    assert all(topic in catalogue("en") for topic in topics.values())
    assert len(set(topics.values())) == len(topics)  # no two screens share a text


async def test_f1_speaks_about_the_screen_it_is_opened_on(make_app: MakeApp,
                                                          engine: Engine) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        k = Kiosk(app, pilot)
        await k.at(WelcomeScreen)
        assert "Press the number of what you need" in await help_text(k)
        await to_methods(k, "alice")
        assert "a way to prove it is you" in await help_text(k)
        await k.press("1")
        await k.at(EnterCodeScreen)
        assert "Type the code you were sent" in await help_text(k)
        await k.press("escape")
        await k.at(ChooseMethodScreen)
        await k.press("3")
        await k.at(QuestionsScreen)
        text = await help_text(k)
        assert "Answer each question" in text and "code" not in text
        assert isinstance(app.screen, QuestionsScreen)  # back where it was opened


async def test_the_footer_names_the_real_number_keys(make_app: MakeApp, engine: Engine) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        k = Kiosk(app, pilot)
        await k.at(WelcomeScreen)
        # four things to do and two languages in the demo
        assert footer(k).startswith(" 1-6 Choose"), footer(k)
        await to_methods(k, "alice")  # email, mobile, questions
        assert footer(k).startswith(" 1-3 Choose"), footer(k)
        assert "1-9" not in footer(k)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        k = Kiosk(app, pilot)
        await to_methods(k, "bob")  # the authenticator alone
        assert footer(k).startswith(" 1 Choose"), footer(k)


def test_numbers_are_not_broken_by_the_wrap() -> None:
    text = "Ask the helpdesk: IT helpdesk, room 1.12 · +1 425 555 0100 · helpdesk@contoso.org"
    for width in range(24, 90):  # (the longest word, the address, is 20)
        lines = wrap_keeping_numbers(text, width)
        assert any(HELPDESK_PHONE in line for line in lines), (width, lines)
        assert " ".join(lines) == text
        assert all(len(line) <= width for line in lines)


@pytest.mark.parametrize("width", [80, 72, 64])
async def test_the_helpdesk_number_is_never_broken(make_app: MakeApp, engine: Engine,
                                                   width: int) -> None:
    def whole() -> bool:
        return HELPDESK_PHONE in k.text

    app = make_app()
    async with app.run_test(size=(width, 30)) as pilot:
        k = Kiosk(app, pilot)
        await k.at(WelcomeScreen)
        assert whole(), k.text
        await k.press("f1")
        await k.at(HelpScreen)
        assert whole(), k.text
        await k.press("escape")
        await to_methods(k, "bob")  # why only the authenticator, and whom to ask
        await k.sees("This account needs its")
        assert whole(), k.text
        await k.press("escape")  # a blank user name
        await k.at(IdentifyScreen)
        await k.press("escape")
        await to_methods(k, "alice")
        await k.press("1")
        await k.at(EnterCodeScreen)  # beside the outbox panel: the narrowest text
        await k.sees(last_code(engine)[:4])
        assert whole(), k.text
        app.post_message(ShowScreen(ProblemScreen("error", support_code="ABCD-1234")))
        await k.at(ProblemScreen)
        assert whole(), k.text
