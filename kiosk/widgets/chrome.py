"""The frame around every screen: the header line and the key-hint line."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.markup import escape
from textual.widgets import Static

from kiosk.i18n import t


class KioskHeader(Horizontal):
    """Organisation name on the left; TRAINING MODE on the right when the backend is a demo."""

    DEFAULT_CSS = """
    KioskHeader { height: 1; dock: top; }
    KioskHeader #org { width: 1fr; }
    KioskHeader #training { width: auto; }
    """

    def __init__(self, organization: str, demo: bool) -> None:
        super().__init__()
        self.organization = organization
        self.demo = demo

    def compose(self) -> ComposeResult:
        yield Static(
            f" [b]{escape(self.organization)}[/b] · {escape(t('app.title'))}", id="org"
        )
        if self.demo:
            yield Static(f" {escape(t('app.training_mode'))} ", id="training")


class KeyHints(Static):
    """One line at the bottom naming the keys that work here: `Enter Continue · Esc Back`."""

    DEFAULT_CSS = "KeyHints { height: 1; dock: bottom; }"

    def __init__(self, hints: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(self._render_hints(hints), **kwargs)

    @staticmethod
    def _render_hints(hints: list[tuple[str, str]]) -> str:
        parts = [f"[b]{escape(key)}[/b] {escape(text)}" for key, text in hints]
        return " " + "  ·  ".join(parts)

    def set_hints(self, hints: list[tuple[str, str]]) -> None:
        self.update(self._render_hints(hints))
