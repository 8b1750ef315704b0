"""How many keys a reset takes (issue 13): alice's, bob's and carol's resets must take no more
keypresses than when the issue was filed (61, 57 and 72, counted with a 21-character new
password typed twice and every code typed digit by digit).

The count is what the app receives from the keyboard: every Key event the terminal driver
delivers, counted by the app itself, from the first key on the welcome screen to the done
screen. A new step on a success path (a confirm, a second Enter) makes this fail.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual import events

from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.app import KioskApp
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from kiosk.engine.totp import code_at
from kiosk.screens.outcome import DoneScreen
from kiosk.screens.password import NewPasswordScreen
from kiosk.screens.verify import ChannelDialog, ChooseMethodScreen, EnterCodeScreen, TotpScreen
from kiosk.screens.welcome import WelcomeScreen
from tests.support.pilot import BOB_TOTP_SECRET, SIZE, Kiosk, last_code

from .walks import RESET, identify

PASSWORD = "Tiger lantern harbour"  # 21 characters, as when the budget was counted
BUDGET = {"alice": 61, "bob": 57, "carol": 72}


class CountingApp(KioskApp):
    """The kiosk, counting the keys it receives from the keyboard (not the ones it forwards
    to a widget itself)."""

    keys = 0

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.keys += 1
        await super().on_event(event)


async def code(k: Kiosk, value: str) -> None:
    await k.type(value)
    await k.enter()


async def walk(k: Kiosk, user: str, engine: Engine, clock: FrozenClock) -> None:
    """The shortest reset a person who knows the kiosk would type."""
    await identify(k, RESET, user)
    await k.at(ChooseMethodScreen)
    await k.press("1")  # the first method: email (alice, carol), the authenticator (bob)
    if user == "bob":
        await k.at(TotpScreen)
        await code(k, code_at(BOB_TOTP_SECRET, clock.now()))
    else:
        await k.at(EnterCodeScreen)
        await code(k, last_code(engine, f"{user}@contoso.org"))
    if user == "carol":  # the administrator's second proof: her mobile, by text
        await k.until(lambda: isinstance(k.app.screen, ChooseMethodScreen)
                      and k.app.screen.state.gates_passed == 1, "the second proof")
        await k.press("1")
        await k.at(ChannelDialog)
        await k.press("1")
        await k.at(EnterCodeScreen)
        await code(k, last_code(engine, "+14255550143"))
    screen = await k.at(NewPasswordScreen)
    await k.type(PASSWORD)
    await k.enter()  # to the second field
    await k.type(PASSWORD)
    assert isinstance(screen, NewPasswordScreen)
    await k.until(lambda: screen.valid, "the password to be valid")
    await k.enter()
    await k.at(DoneScreen)


@pytest.mark.parametrize("user", sorted(BUDGET))
async def test_a_reset_takes_no_more_keys_than_before(
        user: str, backend: EmbeddedBackend, engine: Engine, clock: FrozenClock,
        tmp_path: Any) -> None:
    app = CountingApp(backend, clock=clock.now, log_path=tmp_path / "kiosk.log")
    async with app.run_test(size=SIZE) as pilot:
        k = Kiosk(app, pilot)
        await k.at(WelcomeScreen)
        assert app.keys == 0
        await walk(k, user, engine, clock)
        print(f"{user}: {app.keys} keys")
        assert app.keys <= BUDGET[user], f"{user}'s reset took {app.keys} keys"
