"""The kiosk rules: lockdown keys, idle reset (nothing survives), done timeout, languages,
errors shown without tracebacks or secrets, the operator exit, mouse and paste."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from textual import events
from textual.command import CommandPalette
from textual.widgets import Input

from kiosk.adapters.embedded import EmbeddedBackend
from kiosk.app import KioskApp, OperatorExit
from kiosk.backend import Branding, Purpose, ServiceUnavailable
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from kiosk.screens.dialogs import IdleWarning, OperatorExitDialog
from kiosk.screens.identify import IdentifyScreen
from kiosk.screens.outcome import DoneScreen, ProblemScreen
from kiosk.screens.password import NewPasswordScreen, SignInScreen
from kiosk.screens.verify import ChooseMethodScreen, EnterCodeScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.widgets.inputs import CodeInput, SecureInput
from tests.support.pilot import (
    NEW_PASSWORD,
    TERMINAL,
    Drive,
    Kiosk,
    MakeApp,
    driving,
    last_code,
)


async def start(k: Kiosk, key: str, username: str) -> None:
    await k.at(WelcomeScreen)
    await k.press(key)
    await k.at(IdentifyScreen)
    await k.type(username)
    await k.enter()


def all_input_values(app: KioskApp) -> list[str]:
    """Every value of every input on every screen the app still holds, in every mode."""
    values = []
    for stack in app._screen_stacks.values():
        for screen in stack:
            values += [w.value for w in screen.query(Input)]
    return values


# ---------------------------------------------------------------- lockdown


def test_lockdown_class_settings() -> None:
    assert KioskApp.ENABLE_COMMAND_PALETTE is False
    assert KioskApp.ALLOW_SELECT is False
    # no inherited bindings: not ctrl+q quit, not ctrl+c help-quit
    actions = {b.action for b in KioskApp.BINDINGS}  # type: ignore[union-attr]
    assert actions == {"noop"}


async def test_quit_suspend_and_palette_keys_do_nothing(drive: Drive) -> None:
    async with drive() as k:
        await k.at(WelcomeScreen)
        for key in ("ctrl+c", "ctrl+q", "ctrl+z", "ctrl+backslash", "ctrl+p", "ctrl+d"):
            await k.press(key)
            assert k.app.is_running and k.app.return_code is None
            assert isinstance(k.app.screen, WelcomeScreen)
            assert not isinstance(k.app.screen, CommandPalette)
        await k.app.action_quit()
        k.app.action_suspend_process()
        k.app.action_command_palette()
        await k.pilot.pause()
        assert k.app.is_running and isinstance(k.app.screen, WelcomeScreen)


async def test_password_fields_cannot_be_copied_or_cut(drive: Drive) -> None:
    async with drive() as k:
        await start(k, "4", "alice")
        screen = await k.at(SignInScreen)
        field = screen.query_one(SecureInput)
        await k.type("Alice-demo-pass-1")
        await k.press("shift+home")  # select it all
        assert field.selected_text == "Alice-demo-pass-1"
        for key in ("ctrl+c", "ctrl+x", "super+c", "super+x", "ctrl+insert"):
            await k.press(key)
        field.action_copy()
        field.action_cut()
        k.app.copy_to_clipboard("anything")
        await k.pilot.pause()
        assert k.app.clipboard == ""
        assert field.value == "Alice-demo-pass-1"
        assert "Alice-demo-pass-1" not in k.text  # masked


def test_run_kiosk_switches_terminal_signals_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.ui_commands import _lock_terminal_signals

    monkeypatch.setenv("TEXTUAL_ALLOW_SIGNALS", "1")
    _lock_terminal_signals()
    import os

    assert "TEXTUAL_ALLOW_SIGNALS" not in os.environ


# ---------------------------------------------------------------- idle


async def test_idle_warning_then_everything_is_dropped(
    drive: Drive, clock: FrozenClock, engine: Engine
) -> None:
    async with drive(tick=0.05) as k:
        await start(k, "1", "alice")
        chooser = await k.at(ChooseMethodScreen)
        flow_id = chooser.state.flow_id
        await k.press("1")
        await k.at(EnterCodeScreen)
        await k.type("1234")
        old_screens = list(k.app.screen_stack)
        assert "alice" in all_input_values(k.app)
        clock.advance(seconds=89)
        await k.pilot.pause(0.2)
        assert not isinstance(k.app.screen, IdleWarning)
        clock.advance(seconds=2)
        await k.at(IdleWarning)
        await k.sees("Are you still there?")
        await k.sees("The kiosk starts over in 0:15")
        clock.advance(seconds=16)
        await k.at(WelcomeScreen)
        # nothing of the visitor is left: no screen, no value, no flow
        assert k.app.flow is None and k.app.username == ""
        assert all(not s.is_attached for s in old_screens)
        assert k.app.screen_stack == [k.app.screen]
        values = all_input_values(k.app)
        assert "alice" not in values and "1234" not in values
        assert "alice" not in k.text and "a•••@c•••.org" not in k.text
    # and the flow was ended on the engine's side
    with pytest.raises(Exception, match="ended"):
        engine.session(TERMINAL).send_code(flow_id, "email", "email")


async def test_a_key_during_the_warning_keeps_the_visit(
    drive: Drive, clock: FrozenClock
) -> None:
    async with drive(tick=0.05) as k:
        await k.at(WelcomeScreen)
        await k.press("1")
        screen = await k.at(IdentifyScreen)
        await k.type("bob")
        clock.advance(seconds=91)
        await k.at(IdleWarning)
        await k.press("x")  # any key: still here (and the key is not typed anywhere)
        await k.at(IdentifyScreen)
        assert k.app.screen is screen
        assert screen.query_one(Input).value == "bob"
        clock.advance(seconds=30)  # the idle time starts again from the key
        await k.pilot.pause(0.2)
        assert k.app.screen is screen


async def test_the_untouched_welcome_screen_is_left_alone(
    drive: Drive, clock: FrozenClock
) -> None:
    async with drive(tick=0.05) as k:
        welcome = await k.at(WelcomeScreen)
        clock.advance(seconds=500)
        await k.pilot.pause(0.3)
        assert k.app.screen is welcome


async def test_done_goes_back_to_welcome_after_20_seconds(
    drive: Drive, clock: FrozenClock, engine: Engine
) -> None:
    async with drive() as k:
        await start(k, "2", "dave")
        await k.at(ChooseMethodScreen)
        await k.press("1")
        await k.at(EnterCodeScreen)
        await k.type(last_code(engine))
        await k.enter()
        await k.press("1")  # unlock
        await k.at(DoneScreen)
        await k.sees("Back to the start in 0:20.")
        clock.advance(seconds=19)
        await k.pilot.pause(1.2)
        assert isinstance(k.app.screen, DoneScreen)
        clock.advance(seconds=2)
        await k.at(WelcomeScreen)


# ---------------------------------------------------------------- languages


@pytest.mark.policy(privacy={"enumeration_safe": False})  # frank is told at once
async def test_german_and_back_to_english_for_the_next_visitor(
    drive: Drive, clock: FrozenClock
) -> None:
    async with drive(tick=0.05) as k:
        await k.at(WelcomeScreen)
        await k.press("6")  # Deutsch
        await k.sees("Was möchten Sie tun?")
        await k.sees("Ich habe mein Passwort vergessen")
        assert "forgot" not in k.text
        await start(k, "1", "frank")
        await k.at(ProblemScreen)
        await k.sees("Selbstbedienung nicht verfügbar")
        await k.sees("Support-Code:")
        await k.press("enter")
        await k.at(WelcomeScreen)
        await k.sees("Was möchten Sie tun?")  # starting over: the same person, same language
        clock.advance(seconds=91)  # then they walk away
        await k.at(IdleWarning)
        clock.advance(seconds=16)
        await k.at(WelcomeScreen)
        await k.sees("What would you like to do?")


# ---------------------------------------------------------------- errors


class ExplodingBackend(EmbeddedBackend):
    async def start(self, purpose: Purpose, username: str,  # type: ignore[no-untyped-def]
                    language: str | None = None):
        raise RuntimeError("Alice-demo-pass-1 leaked into an exception message")


async def test_unexpected_error_is_logged_without_secrets(
    drive: Drive, engine: Engine, tmp_path: Path
) -> None:
    async with drive(backend=ExplodingBackend(engine, TERMINAL)) as k:
        await start(k, "1", "alice")
        screen = await k.at(ProblemScreen)
        assert screen.kind == "error"
        await k.sees("Something went wrong")
        assert screen.support_code.startswith("ERR-")
        await k.sees(f"Support code: {screen.support_code}")
        assert "Traceback" not in k.text and "leaked" not in k.text
        await k.enter()
        await k.at(WelcomeScreen)
    log = (tmp_path / "kiosk.log").read_text()
    assert "RuntimeError" in log and screen.support_code in log
    assert "Alice-demo-pass-1" not in log and "leaked" not in log


async def test_a_crash_prints_no_traceback_and_logs_no_secrets(
    drive: Drive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(self, event) -> None:  # type: ignore[no-untyped-def]
        secret = "Alice-demo-pass-1"
        raise ValueError(f"bug with {secret}")

    monkeypatch.setattr(WelcomeScreen, "on_button_pressed", boom)
    with pytest.raises(ValueError):
        async with drive() as k:
            await k.at(WelcomeScreen)
            await k.press("1")
            await k.pilot.pause(0.2)
    assert k.app.return_code == 1
    assert k.app._exit_renderables == []  # Textual would print a traceback with locals
    log = (tmp_path / "kiosk.log").read_text()
    assert "ValueError" in log and "Alice-demo-pass-1" not in log


class DownBackend(EmbeddedBackend):
    down = True

    async def branding(self) -> Branding:
        if self.down:
            raise ServiceUnavailable("the API is down")
        return await super().branding()


async def test_service_unavailable_then_retry(drive: Drive, engine: Engine) -> None:
    backend = DownBackend(engine, TERMINAL)
    async with drive(backend=backend) as k:
        screen = await k.at(ProblemScreen)
        assert screen.kind == "service_unavailable"
        await k.sees("The service is not available")
        backend.down = False
        await k.enter()
        await k.at(WelcomeScreen)


# ---------------------------------------------------------------- operator exit


async def test_operator_exit_needs_the_passphrase(drive: Drive) -> None:
    operator = OperatorExit(key="f12", passphrase_hash=PasswordHasher().hash("let me out"))
    async with drive(operator_exit=operator) as k:
        await k.at(WelcomeScreen)
        await k.press("f12")
        await k.at(OperatorExitDialog)
        await k.type("guess")
        await k.enter()
        await k.sees("Wrong passphrase.")
        await k.press("escape")
        await k.at(WelcomeScreen)
        await k.press("f12")
        await k.at(OperatorExitDialog)
        await k.type("let me out")
        await k.enter()
        await k.pilot.pause(0.3)
    assert k.app.return_value == "operator"


async def test_no_operator_exit_unless_configured(drive: Drive) -> None:
    async with drive() as k:
        await k.at(WelcomeScreen)
        await k.press("f12")
        assert isinstance(k.app.screen, WelcomeScreen) and k.app.is_running


# ---------------------------------------------------------------- mouse and paste


async def test_mouse_and_paste(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await k.at(WelcomeScreen)
        await k.pilot.click("#action-reset")
        await k.at(IdentifyScreen)
        await k.type("alice")
        await k.pilot.click("#submit")
        await k.at(ChooseMethodScreen)
        await k.pilot.click("#method-email")
        screen = await k.at(EnterCodeScreen)
        code = last_code(engine)
        await k.paste(f"Your code: {code[:4]} {code[4:]}\n")
        assert screen.query_one(CodeInput).value == code
        await k.enter()
        await k.at(NewPasswordScreen)
        await k.paste(NEW_PASSWORD)
        assert k.app.screen.query_one("#pw1", SecureInput).value == NEW_PASSWORD


async def test_typing_a_code_with_spaces(drive: Drive, engine: Engine) -> None:
    async with drive() as k:
        await start(k, "1", "alice")
        await k.at(ChooseMethodScreen)
        await k.press("1")
        await k.at(EnterCodeScreen)
        code = last_code(engine)
        await k.type(f"{code[:4]} {code[4:]}x")  # the letter is refused
        await k.enter()
        await k.at(NewPasswordScreen)


def test_events_module_is_used() -> None:
    assert events.Paste  # the paste path is the terminal's bracketed paste


async def test_no_color_is_respected(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    assert app.no_color
    async with driving(app) as k:
        await k.at(WelcomeScreen)


async def test_a_late_answer_after_an_idle_reset_is_dropped(
    drive: Drive, engine: Engine, clock: FrozenClock
) -> None:
    import asyncio

    release = asyncio.Event()
    answered = asyncio.Event()

    class Slow(EmbeddedBackend):
        async def start(self, purpose, username, language=None):  # type: ignore[no-untyped-def]
            await release.wait()
            try:
                return await super().start(purpose, username, language)
            finally:
                answered.set()

    async def until(check) -> None:  # type: ignore[no-untyped-def]
        # (Pilot's own waits would wait for the stuck screen; plain sleeps do not)
        for _ in range(500):  # 10 s: CI machines are busy
            if check():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(check)

    async with drive(backend=Slow(engine, TERMINAL), tick=0.05) as k:
        app, pilot = k.app, k.pilot
        try:
            await k.at(WelcomeScreen)
            await k.press("1")
            await k.at(IdentifyScreen)
            await k.type("alice")
            k.enter_while_busy()
            await until(lambda: app._busy)  # the call hangs in the backend
            clock.advance(seconds=91)
            await until(lambda: isinstance(app.screen, IdleWarning))
            clock.advance(seconds=16)
            await until(lambda: isinstance(app.screen, WelcomeScreen))
            welcome = app.screen
            release.set()  # the answer for the previous visitor arrives now
            await until(answered.is_set)  # and the app has taken it (the call has returned)
            await pilot.pause()
            assert app.screen is welcome and app.flow is None
            assert "alice" not in all_input_values(app)
        finally:  # let the stuck call finish whatever failed, or the app never shuts down
            release.set()


async def test_a_name_utf8_cannot_encode_is_said_to_be_invalid(drive: Drive) -> None:
    """A lone surrogate (a paste can carry one) is the engine's invalid input, shown on the
    screen like any other; not an internal error that sends the visitor back to the start."""
    async with drive() as k:
        await k.at(WelcomeScreen)
        await k.press("1")
        await k.at(IdentifyScreen)
        await k.paste("\ud800abc")
        await k.enter()
        await k.sees("That entry is not valid")
        assert isinstance(k.app.screen, IdentifyScreen)


async def test_ctrl_q_quits_the_demo_after_a_confirm_only_when_allowed(drive: Drive) -> None:
    """Issue 13: `kiosk demo` has a quit key (ctrl+q, confirmed); the kiosk itself has none."""
    from kiosk.screens.dialogs import ConfirmQuitDialog
    from kiosk.screens.welcome import WelcomeScreen

    async with drive() as k:
        locked = k.app
        await k.at(WelcomeScreen)
        await k.press("ctrl+q")
        await k.at(WelcomeScreen)
        assert locked.is_running and not isinstance(locked.screen, ConfirmQuitDialog)

    async with drive(demo_quit=True) as k:
        await k.at(WelcomeScreen)
        await k.press("ctrl+q")
        await k.at(ConfirmQuitDialog)
        await k.sees("Quit the demo?")
        await k.press("2")  # no, go on
        await k.at(WelcomeScreen)
        await k.press("ctrl+q")
        await k.at(ConfirmQuitDialog)
        await k.press("1")  # yes, quit
        await k.until(lambda: not k.app.is_running, "the app to end")
    assert k.app.return_value == "quit"
