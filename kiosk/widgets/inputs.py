"""Inputs whose content never leaves them: no copy, no cut, no clipboard.

Every text field of the kiosk is a `KioskInput`. Passwords and answers use `SecureInput`
(masked, with a reveal toggle); one-time codes use `CodeInput` (digits only, paste-friendly).
"""

from __future__ import annotations

import re
from typing import Any

from textual import events
from textual.widgets import Input

_NON_DIGITS = re.compile(r"\D")


class KioskInput(Input):
    """An `Input` that cannot copy or cut, and never selects its text on focus."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)

    def on_mount(self) -> None:
        # a blinking cursor makes screenshots non-deterministic; headless runs never need it
        if self.app.is_headless:
            self.cursor_blink = False

    def action_copy(self) -> None:
        """Neutralised: nothing typed into the kiosk may reach a clipboard."""

    def action_cut(self) -> None:
        """Neutralised: cutting would copy."""

    def action_paste(self) -> None:
        """Only the terminal's own paste (bracketed paste) is accepted, never an app clipboard."""


class SecureInput(KioskInput):
    """A masked input for passwords and answers, with a show/hide toggle."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("password", True)
        super().__init__(*args, **kwargs)

    def reveal(self, show: bool) -> None:
        self.password = not show


class CodeInput(KioskInput):
    """A one-time code: digits only; spaces may be typed and pasted text is stripped to digits."""

    def __init__(self, length: int = 8, **kwargs: Any) -> None:
        self.length = length
        kwargs.setdefault("placeholder", "·" * length)
        super().__init__(restrict=r"[0-9 ]*", max_length=length * 2, **kwargs)

    def _on_paste(self, event: events.Paste) -> None:
        digits = _NON_DIGITS.sub("", event.text or "")[: self.length]
        if digits:
            start, end = self.selection
            self.replace(digits, min(start, end), max(start, end))
        event.stop()
        event.prevent_default()  # Input's own paste handler must not insert the raw text

    @property
    def code(self) -> str:
        return _NON_DIGITS.sub("", self.value)

    @property
    def complete(self) -> bool:
        return len(self.code) == self.length
