"""Screenshots of every screen at 80x24, in the default and the high-contrast theme.

Deterministic: the engine and the app share a frozen clock (countdowns stand still), and the
`deterministic` fixture fixes codes, support codes, the question draw and the enrolment secret.
Update with `pytest tests/ui/test_snapshots.py --snapshot-update` after checking the report.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.app import KioskApp
from kiosk.backend import Branding, ServiceUnavailable
from kiosk.engine.engine import Engine
from kiosk.screens.dialogs import IdleWarning
from kiosk.screens.identify import IdentifyScreen
from kiosk.screens.outcome import DoneScreen, ProblemScreen, UnlockScreen
from kiosk.screens.password import NewPasswordScreen, SignInScreen
from kiosk.screens.register import (
    AddContactScreen,
    AuthenticatorScreen,
    RegistrationScreen,
    SetQuestionsScreen,
)
from kiosk.screens.verify import (
    ChannelDialog,
    ChooseMethodScreen,
    EnterCodeScreen,
    QuestionsScreen,
    TotpScreen,
)
from kiosk.screens.welcome import WelcomeScreen
from tests.support.pilot import ANSWERS, NEW_PASSWORD, SIZE, TERMINAL, Kiosk, MakeApp

Step = Callable[[Kiosk, Engine], Awaitable[None]]
pytestmark = pytest.mark.usefixtures("deterministic", "berlin")  # berlin: clock times


async def start(k: Kiosk, key: str, username: str) -> None:
    await k.at(WelcomeScreen)
    await k.press(key)
    await k.at(IdentifyScreen)
    await k.type(username)
    await k.enter()


async def email_code_screen(k: Kiosk, user: str = "alice", action: str = "1") -> None:
    await start(k, action, user)
    await k.at(ChooseMethodScreen)
    await k.press("1")
    await k.at(EnterCodeScreen)
    await k.sees("1234 5678")  # the outbox panel has caught up


async def reset_to_new_password(k: Kiosk) -> None:
    await email_code_screen(k)
    await k.type("12345678")
    await k.enter()
    await k.at(NewPasswordScreen)


async def erin_registration(k: Kiosk) -> None:
    await start(k, "3", "erin")
    await k.at(SignInScreen)
    await k.paste("Erin-demo-pass-1")
    await k.enter()
    await k.at(RegistrationScreen)


# ---------------------------------------------------------------- the screens


async def welcome(k: Kiosk, engine: Engine) -> None:
    await k.at(WelcomeScreen)


async def identify(k: Kiosk, engine: Engine) -> None:
    await k.at(WelcomeScreen)
    await k.press("1")
    await k.at(IdentifyScreen)
    await k.type("alice")


async def choose_method(k: Kiosk, engine: Engine) -> None:
    await start(k, "1", "alice")
    await k.at(ChooseMethodScreen)


async def channel_dialog(k: Kiosk, engine: Engine) -> None:
    await choose_method(k, engine)
    await k.press("2")
    await k.at(ChannelDialog)


async def enter_code_wrong(k: Kiosk, engine: Engine) -> None:
    await email_code_screen(k)
    await k.type("87654321")
    await k.enter()
    await k.sees("That code is not right")


async def questions(k: Kiosk, engine: Engine) -> None:
    await choose_method(k, engine)
    await k.press("3")
    screen = await k.at(QuestionsScreen)
    await k.type(ANSWERS[screen.state.questions[0].id])


async def totp(k: Kiosk, engine: Engine) -> None:
    await start(k, "1", "bob")
    await k.at(ChooseMethodScreen)
    await k.press("1")
    await k.at(TotpScreen)


async def second_gate(k: Kiosk, engine: Engine) -> None:
    await email_code_screen(k, "carol")
    await k.type("12345678")
    await k.enter()
    await k.sees("Step 2 of 3 · verify")
    await k.at(ChooseMethodScreen)


async def new_password(k: Kiosk, engine: Engine) -> None:
    await reset_to_new_password(k)
    await k.paste("password1234")
    screen = k.app.screen
    await k.until(lambda: screen.checked_value == "password1234", "the live check")
    await k.sees("✗ Not a commonly used")


async def unlock(k: Kiosk, engine: Engine) -> None:
    await email_code_screen(k, "dave", action="2")
    await k.type("12345678")
    await k.enter()
    await k.at(UnlockScreen)


async def done(k: Kiosk, engine: Engine) -> None:
    await reset_to_new_password(k)
    await k.paste(NEW_PASSWORD)
    await k.enter()
    await k.paste(NEW_PASSWORD)
    screen = k.app.screen
    await k.until(lambda: screen.valid, "a valid password")
    await k.enter()
    await k.at(DoneScreen)


async def sign_in(k: Kiosk, engine: Engine) -> None:
    await start(k, "4", "alice")
    await k.at(SignInScreen)
    await k.type("secret")


async def registration(k: Kiosk, engine: Engine) -> None:
    await erin_registration(k)


async def add_email(k: Kiosk, engine: Engine) -> None:
    await erin_registration(k)
    await k.press("1")
    await k.at(AddContactScreen)
    await k.type("erin.private@example.org")


async def set_questions(k: Kiosk, engine: Engine) -> None:
    await erin_registration(k)
    await k.press("4")
    screen = await k.at(SetQuestionsScreen)
    screen.query_one("#question-1").value = "pet"
    await k.focus("#answer-1")
    await k.type("whiskers")


async def authenticator(k: Kiosk, engine: Engine) -> None:
    await erin_registration(k)
    await k.press("5")
    await k.at(AuthenticatorScreen)


async def blocked(k: Kiosk, engine: Engine) -> None:
    await email_code_screen(k)
    for attempt in range(5):
        await k.type(f"0000000{attempt}")
        await k.enter()
        await k.until(lambda: not k.app._busy)
    await k.at(ProblemScreen)


async def not_eligible(k: Kiosk, engine: Engine) -> None:
    # enumeration-safe: frank learns it only from his own password
    await start(k, "3", "frank")
    await k.at(SignInScreen)
    await k.type("Frank-demo-pass-1")
    await k.enter()
    await k.at(ProblemScreen)


async def not_registered(k: Kiosk, engine: Engine) -> None:
    await start(k, "1", "erin")
    await k.at(ProblemScreen)


async def help_screen(k: Kiosk, engine: Engine) -> None:
    await k.at(WelcomeScreen)
    await k.press("f1")
    await k.sees("Demo users")


async def confirm_cancel(k: Kiosk, engine: Engine) -> None:
    await reset_to_new_password(k)
    await k.press("escape")
    await k.sees("Cancel?")


async def idle_warning(k: Kiosk, engine: Engine) -> None:
    await k.at(WelcomeScreen)
    await k.press("1")
    await k.at(IdentifyScreen)
    k.app.clock.__self__.advance(seconds=91)  # type: ignore[attr-defined]
    await k.at(IdleWarning)


SCREENS: dict[str, Step] = {
    f.__name__: f for f in (
        welcome, identify, choose_method, channel_dialog, enter_code_wrong, questions, totp,
        second_gate, new_password, unlock, done, sign_in, registration, add_email,
        set_questions, authenticator, blocked, not_eligible, not_registered, help_screen,
        confirm_cancel, idle_warning,
    )
}


def run_before(step: Step, engine: Engine) -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        k = Kiosk(pilot.app, pilot)  # type: ignore[arg-type]
        await step(k, engine)
        await pilot.pause()
        # everything fits the terminal: no screen needs scrolling to be used
        for screen in pilot.app.screen_stack:
            for body in screen.query("#body"):
                assert body.max_scroll_y == 0, f"{type(screen).__name__} does not fit"

    return run


# erin is told she has nothing registered only where enumeration safety is off
EXPLICIT = pytest.mark.policy(privacy={"enumeration_safe": False})


@pytest.mark.parametrize("theme", ["default", "high-contrast"])
@pytest.mark.parametrize("name", [pytest.param(name, marks=EXPLICIT)
                                  if name == "not_registered" else name for name in SCREENS])
def test_screen(name: str, theme: str, snap_compare, make_app: MakeApp, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    app: KioskApp = make_app(theme=theme, tick=0.05)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before(SCREENS[name], engine))


class DownBackend(EmbeddedBackend):
    async def branding(self) -> Branding:
        raise ServiceUnavailable("the API is down")


@pytest.mark.parametrize("theme", ["default", "high-contrast"])
def test_service_unavailable(theme: str, snap_compare, make_app: MakeApp, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    app = make_app(theme=theme, backend=DownBackend(engine, TERMINAL))
    assert snap_compare(app, terminal_size=SIZE,
                        run_before=run_before(lambda k, e: k.at(ProblemScreen), engine))


def test_welcome_in_german(snap_compare, make_app: MakeApp, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    app = make_app(language="de")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before(welcome, engine))


def test_welcome_in_the_ansi_theme(snap_compare, make_app: MakeApp, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    app = make_app(theme="ansi")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before(welcome, engine))


def test_authenticator_qr_code_when_there_is_room(  # type: ignore[no-untyped-def]
    snap_compare, make_app: MakeApp, engine: Engine
) -> None:
    app = make_app()
    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before(authenticator, engine))


