"""How `kiosk admin` prints: plain tables, yes/no, times in UTC, a user's self-service state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any


def yes(value: bool) -> str:
    return "yes" if value else "no"


def stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def status(info: Any) -> str:
    """The self-service column: ready / not registered (n of m) / not in scope / disabled."""
    from kiosk.engine.admin import NOT_REGISTERED

    text = info.sspr
    if info.sspr == NOT_REGISTERED:
        text += f" ({len(info.usable)} of {info.needed})"
    if info.blocked_until:
        text += ", blocked"
    return text
