"""Entering a temporary access pass from the helpdesk (one proof; kiosk.engine.passes).

Offered to every visitor alike; a wrong pass reads like a wrong code, whoever is asking.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.markup import escape
from textual.widgets import Button, Input, Static

from kiosk.backend import CodeExpired, InvalidInput, KioskError, WrongCode
from kiosk.i18n import t
from kiosk.screens.base import FlowScreen, FormScreen
from kiosk.screens.feedback import with_tries_left
from kiosk.widgets.inputs import SecureInput


class PassScreen(FormScreen, FlowScreen):
    """Shown over the method choice, like the authenticator's; Escape goes back to it."""

    BACK = "pop"
    FOCUS = "#pass"

    def hints(self) -> list[tuple[str, str]]:
        return [("Enter", t("hint.continue")), ("Esc", t("hint.other_method")),
                ("F1", t("hint.help"))]

    def compose_body(self) -> ComposeResult:
        yield Static(escape(t("pass.lead")), classes="lead")
        yield Static(escape(t("pass.label")), classes="label")
        yield SecureInput(id="pass", max_length=96)
        yield Static(escape(t("pass.hint")), classes="hint")
        yield Button(t("button.continue"), id="submit", variant="primary", compact=True)

    async def submit(self) -> None:
        entry = self.query_one("#pass", Input)
        await self.submit_call(
            "" if entry.value.strip() else t("pass.empty"),
            lambda: self.kiosk.backend.verify_pass(self.state.flow_id, entry.value),
            self._on_error)

    def _on_error(self, err: KioskError) -> bool:
        if isinstance(err, WrongCode | InvalidInput | CodeExpired):
            self.query_one("#pass", Input).value = ""
            self.show_error(with_tries_left(t("pass.wrong"), err))
            return True
        return False
