"""Where a flow ends: unlock confirmation, done, and the problem screens (blocked, not
eligible, not registered, service unavailable, expired, something went wrong)."""

from __future__ import annotations

from datetime import timedelta

from textual.app import ComposeResult
from textual.markup import escape
from textual.widgets import Button, Static

from kiosk import glyphs
from kiosk.backend import KioskError, Purpose
from kiosk.i18n import has, t
from kiosk.screens.base import FlowScreen, KioskScreen
from kiosk.screens.feedback import block_until
from kiosk.screens.host import RetryBranding, StartOver
from kiosk.screens.identify import IdentifyScreen
from kiosk.widgets.choices import Choice
from kiosk.widgets.countdown import Countdown


class UnlockScreen(FlowScreen):
    BACK = "cancel"

    def hints(self) -> list[tuple[str, str]]:
        return [("1", t("hint.choose")), ("Esc", t("hint.cancel")), ("F1", t("hint.help"))]

    def compose_body(self) -> ComposeResult:
        yield Static(escape(t("unlock.lead", username=self.kiosk.username)), classes="lead")
        yield Choice(1, t("unlock.confirm"), value="unlock", id="unlock")
        yield Static(escape(t("unlock.hint")), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#unlock", Choice).focus()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self.kiosk.proceed(self.kiosk.backend.unlock(self.state.flow_id))


class DoneScreen(FlowScreen):
    """What happened, what to do next; back to the welcome screen on its own."""

    BACK = "restart"

    def heading(self) -> str:
        return t(f"purpose.{self.state.purpose.value}")

    def hints(self) -> list[tuple[str, str]]:
        return [("Enter", t("hint.finish")), ("F1", t("hint.help"))]

    @property
    def result(self) -> str:
        result = self.state.result or {
            Purpose.RESET: "reset", Purpose.UNLOCK: "unlocked", Purpose.CHANGE: "changed",
            Purpose.REGISTER: "registered"}[self.state.purpose]
        return result if has(f"done.{result}.title") else "other"

    def compose_body(self) -> ComposeResult:
        result = self.result
        yield Static(f"{glyphs.ok()} {escape(t(f'done.{result}.title'))}", classes="success")
        yield Static(escape(t(f"done.{result}.next")), classes="lead")
        # nothing changed, so nobody was told (the engine sends no notice)
        yield Static(escape(t("done.signout.no_notice" if result == "not_locked"
                              else "done.signout")), classes="hint")
        deadline = self.kiosk.clock() + timedelta(seconds=self.kiosk.done_timeout)
        yield Countdown(deadline, self.kiosk.clock,
                        lambda time: t("done.countdown", time=time), id="countdown",
                        classes="hint")
        yield Button(t("button.finish"), id="finish", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#finish", Button).focus()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.app.post_message(StartOver())

    async def on_countdown_finished(self, event: Countdown.Finished) -> None:
        event.stop()
        self.app.post_message(StartOver())  # also from under the help dialog


class ProblemScreen(KioskScreen):
    """The end of the road for now: what happened, the helpdesk, the support code."""

    BACK = "restart"

    KINDS = ("blocked", "not_eligible", "not_registered", "service_unavailable",
             "flow_expired", "error")

    def __init__(self, kind: str, *, support_code: str = "", error: KioskError | None = None,
                 retry: bool = False) -> None:
        super().__init__()
        self.kind = kind if kind in self.KINDS else "error"
        self.support_code = support_code
        self.reason = str(error.params.get("reason", "")) if error is not None else ""
        self.error = error
        self.retry = retry

    def heading(self) -> str:
        return t(f"problem.{self.kind}.title")

    def hints(self) -> list[tuple[str, str]]:
        if self.retry:
            return [("Enter", t("hint.retry")), ("F1", t("hint.help"))]
        return [("Enter", t("hint.start_over")), ("F1", t("hint.help"))]

    def compose_body(self) -> ComposeResult:
        body = f"problem.{self.kind}.body"
        if self.reason and has(f"{body}.{self.reason}"):
            body = f"{body}.{self.reason}"
        yield Static(escape(t(body)), classes="lead")
        if self.kind == "blocked":
            until = block_until(self.error, self.kiosk.clock())
            if until:
                yield Static(escape(until), id="blocked-until", classes="lead")
        number = 0
        if self.kind == "not_registered" and self._can_register():
            number += 1
            yield Choice(number, t("problem.not_registered.register"), value="register",
                         id="register")
        helpdesk = self.kiosk.branding.helpdesk
        if helpdesk:
            yield Static(escape(t("problem.helpdesk", helpdesk=helpdesk)), classes="helpdesk")
        if self.kiosk.branding.helpdesk_url:
            yield Static(escape(self.kiosk.branding.helpdesk_url), classes="helpdesk")
        if self.support_code:
            yield Static(escape(t("problem.support_code", code=self.support_code)),
                         classes="support-code")
        label = "button.retry" if self.retry else "button.start_over"
        yield Button(t(label), id="finish", variant="primary", compact=True)

    def _can_register(self) -> bool:
        return Purpose.REGISTER in self.kiosk.branding.purposes and bool(self.kiosk.username)

    def on_mount(self) -> None:
        choices = self.query(Choice)
        (choices.first() if choices else self.query_one("#finish", Button)).focus()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "register":
            screen = IdentifyScreen(Purpose.REGISTER, self.kiosk.username)
            self.app.post_message(StartOver(keep_language=True, then=screen))
            return
        await self.action_back()

    async def action_back(self) -> None:
        if self.retry:
            self.app.post_message(RetryBranding())
            return
        # the same person starting again: keep their language (idle resets it for the next)
        self.app.post_message(StartOver(keep_language=True))
