"""The explain page: why a user can or cannot use self-service (kiosk.engine.explain), through
the console's data source (the engine in-process or the API with the admin token).

    ExplainScreen(EmbeddedData(engine))   # or RemoteData(url, admin_token)
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from kiosk.console.policy.pages import STYLES
from kiosk.console.reports.source import ConsoleData
from kiosk.i18n import t


class ExplainScreen(Screen[None]):
    CSS_PATH = STYLES
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", t("console.policy.back")),
    ]

    def __init__(self, data: ConsoleData, username: str = "") -> None:
        super().__init__()
        self.data = data
        self.username = username

    def compose(self) -> ComposeResult:
        yield Label(t("console.explain.title"), id="explain-title")
        with Horizontal(id="explain-form"):
            yield Label(t("console.explain.user") + " ")
            yield Input(self.username, id="user", placeholder="alice")
        with VerticalScroll():
            yield Static(t("console.explain.hint"), id="explanation")
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#user", Input).focus()
        if self.username:
            await self._explain(self.username)

    @on(Input.Submitted, "#user")
    async def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            await self._explain(event.value.strip())

    async def _explain(self, username: str) -> None:
        out = self.query_one("#explanation", Static)
        try:
            found = await asyncio.to_thread(self.data.explain, username)
        except Exception as exc:  # the API is down, the token refused: one line, no trace
            out.update(Text(t("console.explain.failed", error=type(exc).__name__),
                            style="bold red"))
            return
        text = Text()
        for line in found.lines():
            style = ("bold yellow" if line.startswith("warning:") else
                     "red" if " no: " in line else "")
            text.append(line + "\n", style=style)
        out.update(text)
