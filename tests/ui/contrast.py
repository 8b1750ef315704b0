"""WCAG contrast of what the kiosk actually draws, per theme and terminal.

Every cell of the composed screen is resolved to the RGB a terminal shows: Textual's line filters
(NO_COLOR) applied, true colour downgraded to the terminal's colour system the way Rich does it,
palette entries looked up in the terminal's palette (xterm, or the Linux console's VGA palette
where bold brightens colours 0-7 and dim is drawn in colour 8), reverse swapped, dim blended.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.color import Color as RichColor
from rich.color import ColorSystem, ColorType
from rich.palette import Palette
from rich.segment import Segment
from rich.style import Style
from textual.app import App

RGB = tuple[int, int, int]

# the Linux console's default palette (drivers/tty/vt/vt.c default_red/grn/blu)
LINUX_CONSOLE = Palette([
    (0, 0, 0), (170, 0, 0), (0, 170, 0), (170, 85, 0), (0, 0, 170), (170, 0, 170),
    (0, 170, 170), (170, 170, 170), (85, 85, 85), (255, 85, 85), (85, 255, 85), (255, 255, 85),
    (85, 85, 255), (255, 85, 255), (85, 255, 255), (255, 255, 255),
])
# xterm's default first 16 colours
XTERM = Palette([
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205),
    (0, 205, 205), (229, 229, 229), (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
    (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
])


@dataclass(frozen=True)
class Terminal:
    name: str
    system: ColorSystem
    palette: Palette
    foreground: RGB  # the terminal's default colours
    background: RGB
    console: bool = False  # Linux console rendering of bold and dim

    def rgb(self, color: RichColor | None, default: RGB) -> RGB:
        if color is None or color.type == ColorType.DEFAULT:
            return default
        if color.type == ColorType.TRUECOLOR:
            if self.system == ColorSystem.TRUECOLOR:
                assert color.triplet is not None
                return tuple(color.triplet)  # type: ignore[return-value]
            color = color.downgrade(self.system)
        assert color.number is not None
        if color.number < 16:
            return tuple(self.palette[color.number])  # type: ignore[return-value]
        from rich._palettes import EIGHT_BIT_PALETTE

        return tuple(EIGHT_BIT_PALETTE[color.number])  # type: ignore[return-value]

    def cell(self, style: Style) -> tuple[RGB, RGB]:
        """(foreground, background) as shown."""
        fg_color = style.color
        if self.console and style.bold and fg_color is not None and fg_color.number is not None \
                and fg_color.type in (ColorType.STANDARD, ColorType.EIGHT_BIT) \
                and fg_color.number < 8:
            fg_color = RichColor.from_ansi(fg_color.number + 8)
        fg = self.rgb(fg_color, self.foreground)
        bg = self.rgb(style.bgcolor, self.background)
        if self.console and style.dim:
            fg = tuple(self.palette[8])  # type: ignore[assignment]
        if style.reverse:
            fg, bg = bg, fg
        if style.dim and not self.console:
            fg = tuple((a + b) // 2 for a, b in zip(fg, bg, strict=True))  # type: ignore[assignment]
        return fg, bg


TRUECOLOR = Terminal("truecolor", ColorSystem.TRUECOLOR, XTERM, (229, 229, 229), (0, 0, 0))
XTERM_256 = Terminal("xterm-256color", ColorSystem.EIGHT_BIT, XTERM, (229, 229, 229), (0, 0, 0))
CONSOLE = Terminal("linux", ColorSystem.STANDARD, LINUX_CONSOLE, (170, 170, 170), (0, 0, 0),
                   console=True)


def luminance(rgb: RGB) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: RGB, b: RGB) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def is_text(char: str) -> bool:
    """Letters, digits, punctuation and symbols; not box drawing, blocks or shapes (borders,
    scroll bars and the meter's bar are graphics: WCAG asks 3:1 of those, not 4.5:1)."""
    return not char.isspace() and not 0x2500 <= ord(char) <= 0x25FF


@dataclass(frozen=True)
class Sample:
    ratio: float
    text: str
    fg: RGB
    bg: RGB
    row: int


def samples(app: App, terminal: Terminal) -> list[Sample]:
    """Every run of text on the screen with its contrast ratio. Behind a dialog only the dialog
    counts: the screen under it is dimmed on purpose."""
    from textual.color import Color
    from textual.geometry import Region
    from textual.screen import ModalScreen

    area = Region(0, 0, *app.size)
    if isinstance(app.screen, ModalScreen) and app.screen.children:
        area = app.screen.children[0].region

    strips = app.screen._compositor.render_strips()
    background = Color.from_rich_color(RichColor.from_rgb(*terminal.background))
    found: list[Sample] = []
    for row, strip in enumerate(strips):
        for line_filter in app.get_line_filters():
            strip = strip.apply_filter(line_filter, background)
        x = 0
        for segment in strip:
            text, style, _ = segment if isinstance(segment, Segment) else (segment, None, None)
            start, x = x, x + segment.cell_length
            if not area.contains(start, row) or not any(is_text(ch) for ch in text):
                continue
            fg, bg = terminal.cell(style or Style())
            found.append(Sample(ratio(fg, bg), text.strip(), fg, bg, row))
    return found
