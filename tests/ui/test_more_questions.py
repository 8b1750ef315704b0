"""Security questions (issue 13): a person may register more than the minimum, up to the
pool's size, for resets to draw from; with as many registered as asked, a wrong answer brings
the same questions back, and the screen says so instead of implying a new set."""

from __future__ import annotations

from kiosk.engine.engine import Engine
from kiosk.screens.outcome import DoneScreen
from kiosk.screens.register import RegistrationScreen, SetQuestionsScreen
from kiosk.screens.verify import ChooseMethodScreen, QuestionsScreen
from kiosk.widgets.inputs import SecureInput
from tests.support.engine import drawn_questions
from tests.support.pilot import Drive

from .walks import RESET, identify, to_registration

FOUR = [("pet", "whiskers"), ("school", "lincoln high"), ("car", "beetle"), ("job", "paperboy")]


async def test_erin_registers_four_questions_with_f3(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await to_registration(k, "erin", "Erin-demo-pass-1")
        await k.press("4")  # security questions
        screen = await k.at(SetQuestionsScreen)
        assert isinstance(screen, SetQuestionsScreen)
        await k.sees("Choose at least 3 different questions")
        await k.sees("F3 More questions")
        assert len(screen.query(SecureInput)) == 3
        await k.press("f3")
        await k.until(lambda: len(screen.query(SecureInput)) == 4, "a fourth question")
        assert k.app.focused is screen.query_one("#question-4")
        for index, (qid, answer) in enumerate(FOUR, start=1):
            screen.query_one(f"#question-{index}").value = qid
            screen.query_one(f"#answer-{index}", SecureInput).value = answer
        await k.focus("#answer-4")
        await k.enter()  # from the last answer: save
        await k.at(RegistrationScreen)
        await k.sees("Security questions")
        await k.press("6")  # finish
        await k.at(DoneScreen)
    drawn = drawn_questions(engine, "erin", 30, "console:elsewhere")  # resets draw 3 of the 4
    assert all(len(asked) == 3 for asked in drawn)
    assert set().union(*drawn) == {qid for qid, _ in FOUR}


async def test_f3_stops_at_the_pool_size(drive: Drive) -> None:
    async with drive() as k:
        await to_registration(k, "erin", "Erin-demo-pass-1")
        await k.press("4")
        screen = await k.at(SetQuestionsScreen)
        assert isinstance(screen, SetQuestionsScreen)
        pool = len(screen.pool)
        for _ in range(pool - 3):
            await k.press("f3")
        await k.until(lambda: len(screen.query(SecureInput)) == pool, "every question")
        await k.press("f3")
        await k.sees(f"Every one of the {pool} questions is already on the list.")
        assert len(screen.query(SecureInput)) == pool


async def test_the_same_three_again_is_said_to_be_the_same(drive: Drive) -> None:
    """alice registered 3 and is asked 3: a wrong answer brings the same three back."""
    async with drive() as k:
        await identify(k, RESET, "alice")
        await k.at(ChooseMethodScreen)
        await k.press("3")
        screen = await k.at(QuestionsScreen)
        for field in screen.query(SecureInput):
            field.value = "wrong answer"
        await k.focus("#answer-3")
        await k.enter()
        await k.sees("These are the same questions again")
        assert "all you registered" in k.text.replace("\n  ", " ")
