"""Numbered choices: every choice shows the number key that selects it (mouse works too)."""

from __future__ import annotations

from textual.markup import escape
from textual.widgets import Button


class Choice(Button):
    """A one-line button labelled `1  Forgot my password`; the screen maps digit keys to it."""

    DEFAULT_CSS = """
    Choice { width: 100%; min-width: 10; height: auto; border: none; padding: 0 1;
             text-align: left; content-align: left middle; margin: 0 0 1 0; }
    """

    def __init__(
        self,
        number: int,
        text: str,
        *,
        value: str = "",
        detail: str = "",
        id: str | None = None,
        disabled: bool = False,
    ) -> None:
        label = f"[b]{number}[/b]  {escape(text)}"
        if detail:
            label += f"  [dim]{escape(detail)}[/dim]"
        super().__init__(label, id=id, disabled=disabled, compact=True)
        self.styles.line_pad = 0  # (Button pads each line; `line-pad: 0` does not parse)
        self.number = number
        self.value = value
