"""Temporary access pass: issue one for a named user after checking identity in person (shown
once), see the user's current pass, revoke it (`ctrl+r`, with a reason)."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.widgets import Button, Checkbox, Input, Static

from kiosk.backend import KioskError
from kiosk.console.dialogs import ask_reason, stamp
from kiosk.desk import PassInfo, PassRequest
from kiosk.i18n import t


class PassesPage(VerticalScroll):
    BINDINGS: ClassVar = [Binding("ctrl+s", "issue", "Issue pass"),
                          Binding("ctrl+r", "revoke", "Revoke pass")]

    def compose(self) -> ComposeResult:
        yield Static(escape(t("console.pass.lead")), classes="lead", id="pass-lead")
        # what the agent reads out comes first, above the form: never scrolled away
        yield Static("", id="pass-shown", classes="shown")
        yield Static("", id="pass-error", classes="error")
        yield Static("", id="pass-status")
        with Horizontal(classes="row"):
            yield Static(escape(t("console.pass.user")), classes="label")
            yield Input(max_length=256, id="pass-user")
        with Horizontal(classes="row"):
            yield Static(escape(t("console.pass.minutes")), classes="label")
            yield Input("60", max_length=5, id="pass-minutes", type="integer")
        with Horizontal(classes="row"):
            yield Static(escape(t("console.pass.terminal")), classes="label")
            yield Input(placeholder=t("console.pass.any_terminal"), max_length=200,
                        id="pass-terminal")
        yield Checkbox(t("console.pass.one_time"), True, id="pass-one-time")
        yield Checkbox(t("console.pass.two"), False, id="pass-two")
        with Horizontal(classes="row"):
            yield Static(escape(t("console.pass.approver")), classes="label")
            yield Input(max_length=64, id="pass-approver")
        yield Button(t("console.pass.issue"), id="pass-issue", variant="primary", compact=True)

    def focus_first(self) -> None:
        self.query_one("#pass-user", Input).focus()

    def relabel(self) -> None:
        self.query_one("#pass-lead", Static).update(escape(t("console.pass.lead")))

    def say(self, text: str) -> None:
        self.query_one("#pass-error", Static).update(escape(text))

    def value(self, name: str) -> str:
        return self.query_one(f"#pass-{name}", Input).value.strip()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "pass-user":
            await self.show_status()
        else:
            await self.action_issue()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self.action_issue()

    async def show_status(self) -> None:
        self.say("")
        if not self.value("user"):
            return
        try:
            info = await self.app.source.pass_status(self.value("user"))  # type: ignore[attr-defined]
        except KioskError as err:
            self.say(err.message)
            return
        self.status(info)

    def status(self, info: PassInfo | None) -> None:
        text = t("console.pass.none") if info is None else t(
            "console.pass.status", user=info.username, state=info.state,
            until=stamp(info.expires_at), agent=info.issued_by, uses=info.uses,
            terminal=info.terminal or t("console.pass.any_terminal"))
        self.query_one("#pass-status", Static).update(escape(text))

    async def action_issue(self) -> None:
        self.say("")
        self.query_one("#pass-shown", Static).update("")
        try:
            minutes = int(self.value("minutes") or "60")
            request = PassRequest(
                username=self.value("user"), lifetime_minutes=minutes,
                one_time=self.query_one("#pass-one-time", Checkbox).value,
                terminal=self.value("terminal"),
                count_as_two=self.query_one("#pass-two", Checkbox).value,
                approved_by=self.value("approver"))
        except ValueError:
            self.say(t("console.pass.limits"))
            return
        if not request.username:
            self.say(t("console.pass.no_user"))
            return
        try:
            issued = await self.app.source.issue_pass(request)  # type: ignore[attr-defined]
        except KioskError as err:
            self.say(err.message)
            return
        text = " ".join(issued.access_pass[i:i + 4] for i in range(0, len(issued.access_pass), 4))
        self.query_one("#pass-shown", Static).update(
            escape(t("console.pass.shown", user=issued.info.username, text=text)))
        self.status(issued.info)

    def action_revoke(self) -> None:
        user = self.value("user")
        if not user:
            self.say(t("console.pass.no_user"))
            return
        ask_reason(self, t("console.reason.revoke", user=user), partial(self._revoke, user))

    async def _revoke(self, user: str, reason: str) -> None:
        try:
            info = await self.app.source.revoke_pass(user, reason)  # type: ignore[attr-defined]
        except KioskError as err:
            self.say(err.message)
            return
        self.query_one("#pass-shown", Static).update("")
        self.status(info)
