"""Keys typed ahead across a focus change (issue 13): a burst `answer⇥answer⏎` or `pw⏎pw⏎`
(a password manager's auto-type, a paste of keys, a laggy SSH link) reaches the app faster
than a field takes the focus; every part must land in the field the person meant.

The burst is queued on the app the way the terminal driver queues keys, all at once, before
the app handles the first (tests/ui/test_tmux.py sends the same through a real terminal).
"""

from __future__ import annotations

from textual import events
from textual.keys import _character_to_key

from kiosk.app import KioskApp
from kiosk.screens.identify import IdentifyScreen
from kiosk.screens.outcome import DoneScreen
from kiosk.screens.password import NewPasswordScreen
from kiosk.screens.verify import ChooseMethodScreen, QuestionsScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.widgets.inputs import SecureInput
from tests.support.pilot import ANSWERS, NEW_PASSWORD, SIZE, Kiosk, MakeApp

from .walks import RESET, identify

TAB, ENTER = "\t", "\r"


def burst(app: KioskApp, text: str) -> None:
    """Queue every key of `text` on the app at once (⇥ is "\\t", ⏎ is "\\r")."""
    driver = app._driver
    assert driver is not None
    for char in text:
        if char == TAB:
            key = "tab"
        elif char == ENTER:
            key = "enter"
        else:
            key = char if char.isalnum() else _character_to_key(char)
        event = events.Key(key, char)
        event.set_sender(app)
        driver.send_message(event)


async def to_questions(k: Kiosk) -> QuestionsScreen:
    await identify(k, RESET, "alice")
    await k.at(ChooseMethodScreen)
    await k.press("3")
    screen = await k.at(QuestionsScreen)
    assert isinstance(screen, QuestionsScreen)
    return screen


async def test_a_burst_of_answers_and_passwords_lands_field_by_field(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        k = Kiosk(app, pilot)
        screen = await to_questions(k)
        answers = [ANSWERS[q.id] for q in screen.state.questions]
        burst(app, TAB.join(answers) + ENTER)  # rex⇥springfield⇥ally⏎
        await k.at(NewPasswordScreen)
        burst(app, NEW_PASSWORD + TAB + NEW_PASSWORD + ENTER)
        await k.at(DoneScreen)
        await k.sees("Your password has been changed.")


async def test_enter_between_fields_moves_before_the_next_key(make_app: MakeApp) -> None:
    """`pw⏎pw⏎` and `answer⏎answer⏎…`: Enter in a field that leads on moves the focus at once."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        k = Kiosk(app, pilot)
        screen = await to_questions(k)
        answers = [ANSWERS[q.id] for q in screen.state.questions]
        burst(app, ENTER.join(answers[:2]) + ENTER)  # the last answer not yet
        await k.until(lambda: app.focused is screen.query_one("#answer-3"), "the third field")
        values = [field.value for field in screen.query(SecureInput)]
        assert values == [*answers[:2], ""]
        burst(app, answers[2] + ENTER)
        screen = await k.at(NewPasswordScreen)
        burst(app, NEW_PASSWORD + ENTER + NEW_PASSWORD)
        await k.until(lambda: screen.query_one("#pw2", SecureInput).value == NEW_PASSWORD,
                      "the second copy in the second field")
        assert screen.query_one("#pw1", SecureInput).value == NEW_PASSWORD
        burst(app, ENTER)
        await k.at(DoneScreen)


async def test_a_key_typed_after_the_name_is_not_part_of_it(make_app: MakeApp) -> None:
    """`alice⏎1`: the name is what the field held at Enter (before, the flow started for
    "alice1", a name nobody has, whose decoy looks like an account)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        k = Kiosk(app, pilot)
        await k.at(WelcomeScreen)
        await k.press("1")
        await k.at(IdentifyScreen)
        burst(app, "alice" + ENTER + "1")
        await k.at(ChooseMethodScreen)
        assert app.username == "alice"
        await k.sees("a•••@c•••.org")
