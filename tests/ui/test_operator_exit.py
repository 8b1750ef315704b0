"""The operator exit cannot be guessed (issue 11, item 2): the engine counts wrong passphrases
per terminal, so closing and reopening the dialog (or restarting the kiosk) starts nothing
over; during the wait the dialog refuses without checking; every try is audited."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from argon2 import PasswordHasher
from sqlalchemy import select

from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.app import OperatorExit
from kiosk.backend import OperatorExitState, ServiceUnavailable
from kiosk.engine.audit import Activity
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from kiosk.engine.schema import audit_events
from kiosk.screens.dialogs import OperatorExitDialog
from kiosk.screens.welcome import WelcomeScreen
from tests.support.pilot import TERMINAL, Drive, Kiosk

PASSPHRASE = "let me out"
HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSPHRASE)


class CountingExit(OperatorExit):
    """Counts the passphrases actually checked."""

    checked: ClassVar[list[str]] = []

    def verify(self, passphrase: str) -> bool:
        self.checked.append(passphrase)
        return super().verify(passphrase)


def operator_events(engine: Engine) -> list[tuple[str, str]]:
    with engine.db.connect() as conn:
        rows = conn.execute(select(audit_events.c.result, audit_events.c.terminal)
                            .where(audit_events.c.activity == Activity.OPERATOR_EXIT.value)
                            .order_by(audit_events.c.id)).all()
    return [(r.result, r.terminal) for r in rows]


async def open_dialog(k: Kiosk) -> OperatorExitDialog:
    await k.press("f12")
    dialog = await k.at(OperatorExitDialog)
    assert isinstance(dialog, OperatorExitDialog)
    await k.until(lambda: dialog.ready, "the dialog asked the engine")
    return dialog


async def try_passphrase(k: Kiosk, dialog: OperatorExitDialog, text: str) -> None:
    tries = dialog.answered
    await k.type(text)
    await k.enter()
    await k.until(lambda: dialog.answered > tries or not dialog.is_attached, "an answer")


async def test_the_wait_holds_across_reopenings(drive: Drive, engine: Engine,
                                                clock: FrozenClock) -> None:
    CountingExit.checked = []
    async with drive(operator_exit=CountingExit(key="f12", passphrase_hash=HASH)) as k:
        await k.at(WelcomeScreen)
        dialog = await open_dialog(k)
        for n in range(3):
            await try_passphrase(k, dialog, f"guess {n}")
        await k.sees("Wrong passphrase.")
        await k.press("escape")
        await k.at(WelcomeScreen)
        dialog = await open_dialog(k)  # a new dialog: the count goes on
        for n in range(3, 5):
            await try_passphrase(k, dialog, f"guess {n}")
        await k.sees("Try again in 0:30")
        await k.press("escape")
        await k.at(WelcomeScreen)
        dialog = await open_dialog(k)
        await k.sees("Try again in 0:30")  # said at once, before anything is typed
        await try_passphrase(k, dialog, PASSPHRASE)
        assert k.app.is_running and k.app.screen is dialog
        assert len(CountingExit.checked) == 5  # refused without checking
        clock.advance(seconds=12)
        await k.sees("Try again in 0:18")
        clock.advance(seconds=18)
        await k.until(lambda: "Try again" not in k.text, "the wait is over")
        await try_passphrase(k, dialog, PASSPHRASE)
    assert k.app.return_value == "operator"
    assert operator_events(engine) == [("failed", TERMINAL)] * 5 + [("succeeded", TERMINAL)]


async def test_a_new_kiosk_on_the_same_terminal_still_waits(drive: Drive, engine: Engine,
                                                             clock: FrozenClock) -> None:
    for _ in range(6):
        clock.advance(seconds=engine.session(TERMINAL).operator_gate().retry_after)
        engine.session(TERMINAL).operator_exit(False)
    async with drive(operator_exit=OperatorExit(key="f12", passphrase_hash=HASH)) as k:
        await k.at(WelcomeScreen)
        await open_dialog(k)
        await k.sees("Try again in 1:00")


class DownBackend(EmbeddedBackend):
    async def operator_gate(self) -> OperatorExitState:
        raise ServiceUnavailable("the API is down")

    async def operator_exit(self, ok: bool) -> OperatorExitState:
        raise ServiceUnavailable("the API is down")


async def test_without_the_backend_the_kiosk_counts_itself(
        drive: Drive, engine: Engine, clock: FrozenClock, tmp_path: Path) -> None:
    async with drive(backend=DownBackend(engine, TERMINAL),
                     operator_exit=OperatorExit(key="f12", passphrase_hash=HASH)) as k:
        await k.at(WelcomeScreen)
        dialog = await open_dialog(k)
        for n in range(5):
            await try_passphrase(k, dialog, f"guess {n}")
        await k.sees("Try again in 0:30")
        await k.press("escape")
        await k.at(WelcomeScreen)
        dialog = await open_dialog(k)
        await k.sees("Try again in 0:30")
        clock.advance(seconds=30)
        await k.until(lambda: "Try again" not in k.text, "the wait is over")
        await try_passphrase(k, dialog, PASSPHRASE)
    assert k.app.return_value == "operator"
    assert "not recorded" in (tmp_path / "kiosk.log").read_text(encoding="utf-8")
