"""Symbols that carry meaning without colour (✓ met, ✗ not met, ⚠ attention, ■□ the meter).

Linux console fonts (TERM=linux) have no ✓ ✗ ⚠ □: there the same signal uses ASCII.
"""

from __future__ import annotations

from kiosk.styles.themes import console_terminal


def ok() -> str:
    return "+" if console_terminal() else "✓"


def no() -> str:
    return "x" if console_terminal() else "✗"


def warn() -> str:
    return "!" if console_terminal() else "⚠"


def bar(full: int, empty: int) -> str:
    return "#" * full + "-" * empty if console_terminal() else "■" * full + "□" * empty
