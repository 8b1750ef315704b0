"""Text whose numbers never wrap in the middle: `+1 425 555 0100` stays on one line.

Textual wraps at any whitespace, the no-break space included, so a phone number's digit groups
could end up on two lines (a visitor then dials half of it). `Unbroken` wraps its text itself,
at the width Textual lays it out, only at spaces that are not between two digits, and hands
Textual lines that already fit.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widgets import Static

_DIGIT_GAP = re.compile(r"(?<=\d) (?=\d)")
_GLUE = "\u00a0"  # a space that must not break, while the text is wrapped (one cell wide)


def wrap_keeping_numbers(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` cells (a longer word or number gets its own line),
    broken only at spaces that are not between two digits."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in _DIGIT_GAP.sub(_GLUE, paragraph).split(" "):
            if line and cell_len(line) + 1 + cell_len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return [line.replace(_GLUE, " ") for line in lines]


class NumbersKept(Visual):
    """Plain text that Textual renders at whatever width it lays it out, wrapped first by
    `wrap_keeping_numbers` (so its own wrapping finds lines that already fit)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def _content(self, width: int) -> Content:
        return Content("\n".join(wrap_keeping_numbers(self.text, max(width, 1))))

    def render_strips(self, width: int, height: int | None, style: Style,
                      options: RenderOptions) -> list[Strip]:
        return self._content(width).render_strips(width, height, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return Content(self.text).get_optimal_width(rules, container_width)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self._content(width).get_height(rules, width)


class Unbroken(Static):
    """A plain text (no markup) whose numbers are never broken over two lines."""

    def __init__(self, text: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.text = text

    def render(self) -> Visual:
        return NumbersKept(self.text)
