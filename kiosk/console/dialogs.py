"""The console's one dialog: a reason for an action the audit log keeps (lift, revoke)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Static

from kiosk.i18n import t


class ReasonDialog(ModalScreen[str | None]):
    """Asks for a reason; dismisses with it (stripped) or None on Escape."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", show=False)]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(escape(self.question), classes="lead")
            yield Input(placeholder=t("console.reason.placeholder"), max_length=200,
                        id="reason")
            yield Static(escape(t("console.reason.hint")), classes="hint", id="reason-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.query_one("#reason-hint", Static).update(escape(t("console.reason.needed")))
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_reason(page: Widget, question: str, then: Callable[[str], Awaitable[None]]) -> None:
    """Ask for a reason, then run `then(reason)` in a worker of `page` (nothing on Escape)."""

    def answered(reason: str | None) -> None:
        if reason:
            page.run_worker(then(reason))

    page.app.push_screen(ReasonDialog(question), answered)


def stamp(value: object) -> str:
    """A time as the console shows it (UTC; the audit log's zone)."""
    from datetime import datetime

    if not isinstance(value, datetime):
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S")
