"""Dialogs over any screen: the idle warning, help (F1), and the operator exit."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import Button, Input, Static

from kiosk import glyphs
from kiosk.demo_users import BOB_TOTP_SECRET, DEMO_USERS, DemoUser
from kiosk.i18n import t
from kiosk.operator_guard import OperatorExit, OperatorGuard
from kiosk.screens.base import KioskModal
from kiosk.widgets.choices import Choice
from kiosk.widgets.countdown import format_seconds
from kiosk.widgets.inputs import SecureInput
from kiosk.widgets.unbroken import Unbroken

if TYPE_CHECKING:  # a pydantic model: loaded when the operator asks, not before the first frame
    from kiosk.backend import OperatorExitState


class IdleWarning(KioskModal[bool]):
    """"Are you still there?" Any key or click keeps the visit; silence starts over."""

    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, seconds: float, started: datetime | None = None) -> None:
        super().__init__()
        self.seconds = seconds
        # counted from when the app decided to warn, not from when the dialog got drawn
        self.started: datetime | None = started

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(escape(t("idle.title")), classes="heading")
            yield Static("", id="idle-countdown", classes="lead")
            yield Static(escape(t("idle.hint")), classes="hint")

    def on_mount(self) -> None:
        if self.started is None:
            self.started = self.kiosk.clock()
        self.tick()
        self.set_interval(min(1.0, max(0.05, self.seconds / 10)), self.tick)

    @property
    def remaining(self) -> float:
        if self.started is None:
            return self.seconds
        elapsed = (self.kiosk.clock() - self.started).total_seconds()
        return self.seconds - elapsed

    def tick(self) -> None:
        remaining = self.remaining
        if remaining <= 0:
            self.dismiss(False)
            return
        self.query_one("#idle-countdown", Static).update(
            escape(t("idle.countdown", time=format_seconds(remaining))))

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(True)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        event.stop()
        self.dismiss(True)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self.dismiss(True)


def demo_text(user: DemoUser) -> str:
    """What the help says of a demo user, with the secrets from the one list of them."""
    return t(f"demo.{user.username}", password=user.password,
             answers=", ".join(user.answers.values()), secret=user.totp_secret or "")


class HelpScreen(KioskModal[None]):
    """F1: how the kiosk works; in training mode, the demo users and their secrets."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,enter", "close", show=False),
        Binding("up", "scroll_up", show=False),
        Binding("down", "scroll_down", show=False),
    ]

    def __init__(self, topic: str = "") -> None:
        super().__init__()
        self.topic = topic  # the catalogue key of what to say about the screen below

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help", id="help-body", can_focus=False):
            yield Static(escape(t("help.title")), classes="heading")
            # what to do on the screen below, else the keys in general (the footer names them)
            yield Static(escape(t(self.topic or "help.keys")), id="screen-help", classes="lead")
            yield Static(escape(t("help.privacy")), classes="lead")
            helpdesk = self.kiosk.branding.helpdesk
            if helpdesk:
                yield Unbroken(t("problem.helpdesk", helpdesk=helpdesk), classes="helpdesk")
            if self.kiosk.branding.demo:
                yield Static(escape(t("help.demo_title")), classes="heading top-gap")
                lines = [f"[b]{user.username:<6}[/b] {escape(demo_text(user))}"
                         for user in DEMO_USERS]
                yield Static("\n".join(lines), id="demo-users")
                yield Static("", id="bob-totp", classes="hint")
                yield Static(escape(t("help.demo_codes")), classes="hint")
            yield Static(escape(t("dialog.escape_close")), classes="hint")

    def on_mount(self) -> None:
        if self.kiosk.branding.demo:
            self.show_totp()
            self.set_interval(1.0, self.show_totp)

    def show_totp(self) -> None:
        # pyotp loads when the demo's help is first opened, not before the first frame
        from kiosk.totp_code import code_at

        code = code_at(BOB_TOTP_SECRET, self.kiosk.clock())
        self.query_one("#bob-totp", Static).update(escape(t("help.bob_now", code=code)))

    def action_scroll_up(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_up()

    def action_scroll_down(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_down()


class YesNoDialog(KioskModal[bool]):
    """A question answered yes (1) or no (2); "no" has the focus. `TEXTS`: the catalogue keys
    of the title, the body, yes and no; `ID`: the prefix of the choices' ids."""

    TEXTS: ClassVar[tuple[str, str, str, str]]
    ID: ClassVar[str]

    def compose(self) -> ComposeResult:
        title, body, yes, no = self.TEXTS
        with Vertical(classes="dialog"):
            yield Static(escape(t(title)), classes="heading")
            yield Static(escape(t(body)), classes="lead")
            yield Choice(1, t(yes), value="yes", id=f"{self.ID}-yes")
            yield Choice(2, t(no), value="no", id=f"{self.ID}-no")

    def on_mount(self) -> None:
        self.query_one(f"#{self.ID}-no", Choice).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(getattr(event.button, "value", "") == "yes")


class ConfirmCancelDialog(YesNoDialog):
    """Escape after identity was proven: really throw that away?"""

    TEXTS = ("cancel.title", "cancel.body", "cancel.yes", "cancel.no")
    ID = "cancel"


class ConfirmQuitDialog(YesNoDialog):
    """ctrl+q in `kiosk demo` (only there): really end the training kiosk?"""

    TEXTS = ("quit.title", "quit.body", "quit.yes", "quit.no")
    ID = "quit"


class OperatorExitDialog(KioskModal[bool]):
    """The configured operator key opens this; the right passphrase closes the kiosk.

    Wrong passphrases are counted by the engine for this terminal (`OperatorGuard`): after a
    few, each next try must wait longer, and while it waits the dialog refuses without
    checking. Closing and reopening the dialog starts nothing over."""

    def __init__(self, operator: OperatorExit, guard: OperatorGuard) -> None:
        super().__init__()
        self.operator = operator
        self.guard = guard
        self.wait_until: datetime | None = None
        self.ready = False  # the engine's wait is known (tests wait on it)
        self.answered = 0  # passphrases submitted and answered (tests wait on it)
        self._checking = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(escape(t("operator.title")), classes="heading")
            yield Static(escape(t("operator.label")), classes="label")
            yield SecureInput(id="passphrase", max_length=256)
            yield Static("", id="operator-error", classes="error-line")
            yield Static("", id="operator-wait", classes="error-line")
            yield Static(escape(t("dialog.escape_back")), classes="hint")

    async def on_mount(self) -> None:
        self.query_one("#passphrase", SecureInput).focus()
        self.set_interval(0.5, self.show_wait)
        self.wait(await self.guard.gate())
        self.ready = True

    def wait(self, state: OperatorExitState) -> None:
        clock = self.kiosk.clock
        self.wait_until = clock() + timedelta(seconds=state.retry_after) \
            if state.retry_after else None
        self.show_wait()

    def show_wait(self) -> None:
        left = 0.0
        if self.wait_until is not None:
            left = (self.wait_until - self.kiosk.clock()).total_seconds()
        text = escape(t("operator.wait", time=format_seconds(left))) if left > 0 else ""
        self.query_one("#operator-wait", Static).update(text)

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        passphrase, event.input.value = event.value, ""
        if self._checking:
            return
        self._checking = True
        try:
            await self._try(passphrase)
        finally:
            self._checking = False
            self.answered += 1

    async def _try(self, passphrase: str) -> None:
        gate = await self.guard.gate()
        if gate.retry_after:  # refused without checking
            self.wait(gate)
            return
        ok = await asyncio.to_thread(self.operator.verify, passphrase)
        state = await self.guard.report(ok)
        if state.may_exit:
            self.dismiss(True)
            return
        self.wait(state)
        if not ok:
            self.query_one("#operator-error", Static).update(
                f"{glyphs.warn()} {escape(t('operator.wrong'))}")
