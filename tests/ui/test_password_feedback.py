"""Feedback on a new password that does not contradict itself (issue 13): the meter is never
above "weak" beside a failed rule, a refusal says what to do (the engine's advice, in the
visitor's language), and a refused password leaves both fields with its error line."""

from __future__ import annotations

from typing import Any

from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.backend import PasswordCheck
from kiosk.screens.password import NewPasswordScreen
from kiosk.screens.verify import ChooseMethodScreen, EnterCodeScreen
from kiosk.widgets.inputs import SecureInput
from kiosk.widgets.password import StrengthMeter
from tests.support.pilot import NEW_PASSWORD, SIZE, Kiosk, MakeApp, last_code

from .walks import RESET, identify

BANNED_BUT_STRONG = "Orange-bicycle-winter-9"  # zxcvbn: 4; built on common words


async def to_new_password(k: Kiosk, engine: Any) -> NewPasswordScreen:
    await identify(k, RESET, "alice")
    await k.at(ChooseMethodScreen)
    await k.press("1")
    await k.at(EnterCodeScreen)
    await k.type(last_code(engine))
    await k.enter()
    screen = await k.at(NewPasswordScreen)
    assert isinstance(screen, NewPasswordScreen)
    return screen


async def test_the_meter_is_weak_beside_a_failed_rule_and_the_refusal_advises(
        make_app: MakeApp, engine: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        k = Kiosk(app, pilot)
        screen = await to_new_password(k, engine)
        await k.paste(BANNED_BUT_STRONG)
        await k.until(lambda: screen.checked_value == BANNED_BUT_STRONG, "the live check")
        assert "✗ Not a commonly used or forbidden password" in k.text
        assert screen.check is not None and screen.check.score == 4  # zxcvbn alone: strong
        assert screen.query_one(StrengthMeter).score == 1
        assert "Strength: ■■□□□ weak" in k.text and "strong" not in k.text
        # the history line is not ticked while it has not been checked
        assert "· Not one of your recent passwords" in k.text
        await k.enter()
        await k.paste(BANNED_BUT_STRONG)
        await k.enter()
        await k.sees("That password cannot be used. It is built on commonly used passwords")
        assert "Add more words or characters of your own." in k.text.replace("\n  ", " ")
        assert "see the list" not in k.text
        # typing a new password takes the old error line away
        await k.focus("#pw1")
        await k.press("x")
        await k.until(lambda: "cannot be used" not in k.text, "the error line to go")


class OutdatedCheck(EmbeddedBackend):
    """A live check that says yes to everything (an older server, or a rule that changed
    between the check and the submit): only `set_password` refuses."""

    async def check_password(self, flow_id: str, password: str) -> PasswordCheck:
        check = await super().check_password(flow_id, password)
        return PasswordCheck(ok=True, score=check.score, rules=check.rules)


async def test_a_refused_password_leaves_both_fields(make_app: MakeApp, engine: Any) -> None:
    app = make_app(backend=OutdatedCheck(engine, terminal="console:ui-test"))
    async with app.run_test(size=SIZE) as pilot:
        k = Kiosk(app, pilot)
        screen = await to_new_password(k, engine)
        await k.paste(BANNED_BUT_STRONG)
        await k.enter()
        await k.paste(BANNED_BUT_STRONG)
        await k.until(lambda: screen.valid, "the (outdated) check to pass")
        await k.enter()
        await k.sees("That password cannot be used. It is built on commonly used passwords")
        assert [field.value for field in screen.query(SecureInput)] == ["", ""]
        assert app.focused is screen.query_one("#pw1")
        assert "Strength: □□□□□ type a password" in k.text
        await k.paste(NEW_PASSWORD)
        await k.until(lambda: "cannot be used" not in k.text, "the error line to go")
