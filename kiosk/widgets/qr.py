"""A QR code drawn with half-block characters: two modules per character cell, vertically."""

from __future__ import annotations

from typing import Any

import qrcode
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

QUIET = 2  # modules of quiet zone around the code (4 is the standard; 2 scans fine on screens)


def qr_matrix(data: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, border=QUIET)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def half_block_lines(matrix: list[list[bool]]) -> list[str]:
    """The code as text: `█` both modules dark, `▀` top dark, `▄` bottom dark, ` ` neither."""
    rows = [*matrix]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    glyph = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}
    return [
        "".join(glyph[(top, bottom)] for top, bottom in zip(rows[i], rows[i + 1], strict=True))
        for i in range(0, len(rows), 2)
    ]


class QRView(Widget):
    """Renders `data` as a QR code; dark modules black on white, whatever the theme."""

    DEFAULT_CSS = "QRView { width: auto; height: auto; }"

    STYLE = Style(color="#000000", bgcolor="#ffffff")  # full contrast, never the theme's

    def __init__(self, data: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lines = half_block_lines(qr_matrix(data))

    @property
    def needed(self) -> tuple[int, int]:
        """(width, height) in cells."""
        return len(self.lines[0]), len(self.lines)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.needed[0]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.needed[1]

    def render_line(self, y: int) -> Strip:
        if 0 <= y < len(self.lines):
            return Strip([Segment(self.lines[y], self.STYLE)])
        return Strip.blank(self.size.width)


def qr_size(data: str) -> tuple[int, int]:
    lines = half_block_lines(qr_matrix(data))
    return len(lines[0]), len(lines)
