"""Numbered choices: every choice shows the number key that selects it (mouse works too)."""

from __future__ import annotations

from textual.markup import escape
from textual.widgets import Button


class Choice(Button, inherit_css=False):
    """A one-line button labelled `1  Forgot my password`; the screen maps digit keys to it.

    `inherit_css=False`: Button's default CSS (every variant and style, 1,300 tokens) is the
    largest stylesheet the welcome screen would parse, ~9 ms of the start-up (bench/startup.py).
    A choice is always a compact button in the default style, so it carries only those rules
    (Textual 8's, renamed) under its own. Kiosk CSS that styles `Button` names `Choice` too.
    """

    DEFAULT_CSS = """
    Choice:ansi.-style-default {
        border: tall $border-blurred;
        background: ansi_default;
        &:disabled {
            text-opacity: 1;
            text-style: bold dim;
            border: tall $border-blurred !important;
            background: ansi_default !important;
            pointer: not-allowed;
            &:hover { background: ansi_default; }
        }
        &:hover { background: $ansi-background; border: tall $border; }
        &.-active {
            background: $ansi-background !important;
            border: blank $background !important;
            tint: transparent;
        }
    }
    Choice {
        width: 100%; min-width: 10; height: auto; border: none; padding: 0 1;
        text-align: left; content-align: left middle; margin: 0 0 1 0; pointer: pointer;
        &.-style-default {
            text-style: bold;
            color: $button-foreground;
            background: $surface;
            border: none;
            border-top: tall $surface-lighten-1;
            border-bottom: tall $surface-darken-1;
            &.-textual-compact { border: none !important; }
            &:disabled { text-opacity: 0.6; pointer: not-allowed; }
            &:focus { text-style: $button-focus-text-style; background-tint: $foreground 5%; }
            &:hover { border-top: tall $surface; background: $surface-darken-1; }
            &.-active {
                background: $surface;
                border-bottom: tall $surface-lighten-1;
                border-top: tall $surface-darken-1;
                tint: $background 30%;
            }
        }
    }
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
