"""The demo outbox panel: the messages the demo users were 'sent', codes included.

Only mounted when the backend says it is a demo (`Branding.demo`); it polls `backend.outbox()`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.widgets import Static

from kiosk.backend import Channel, KioskError
from kiosk.i18n import t

if TYPE_CHECKING:  # a pydantic model: loaded with the first outbox call, after the first frame
    from kiosk.backend import OutboxMessage

ICONS = {Channel.EMAIL: "✉", Channel.TEXT: "✆", Channel.CALL: "☎"}


class OutboxPanel(VerticalScroll, can_focus=False):
    DEFAULT_CSS = "OutboxPanel { width: 28; dock: right; }"

    def __init__(self, limit: int = 4, interval: float = 1.0) -> None:
        super().__init__()
        self.limit = limit
        self.interval = interval
        self._last: list[int] = []

    def compose(self) -> ComposeResult:
        yield Static(escape(t("outbox.title")), classes="outbox-title")
        yield Static(escape(t("outbox.empty")), id="outbox-body")

    async def on_mount(self) -> None:
        await self.poll()
        self.set_interval(self.interval, self.poll)

    async def poll(self) -> None:
        backend = getattr(self.app, "backend", None)
        if backend is None or getattr(self.app, "starting", False):
            return  # (while the engine is built after the first frame, nothing was sent yet)
        try:
            messages = await backend.outbox(self.limit)
        except KioskError:
            return
        except Exception:  # a panel must never take the kiosk down
            return
        floor = getattr(self.app, "outbox_floor", 0)
        messages = [m for m in messages if m.id > floor]  # this visitor's messages only
        ids = [m.id for m in messages]
        if ids == self._last:
            return
        self._last = ids
        self.query_one("#outbox-body", Static).update(self.render_messages(messages))

    @staticmethod
    def render_messages(messages: list[OutboxMessage]) -> str:
        if not messages:
            return escape(t("outbox.empty"))
        newest_first = sorted(messages, key=lambda m: m.id, reverse=True)
        blocks = []
        for m in newest_first:
            icon = ICONS.get(m.channel, "•")
            code = code_in(m)
            detail = (f"{escape(t('outbox.code'))} [b $accent]{code}[/]" if code
                      else f"[dim]{escape(m.subject)}[/dim]")
            blocks.append(f"{icon} {escape(m.recipient)}\n{detail}")
        return "\n".join(blocks)


_SPACED = re.compile(r"\b\d{3,4}(?: \d{3,4})+\b")
_OWN_LINE = re.compile(r"^[ \t]+(\d{3,4}(?: \d{3,4})+)[ \t]*$", re.MULTILINE)
_PHONE_BEFORE = re.compile(r"(?:\+\d{0,3}[ ()-]*|\d[ -])$")
_SPOKEN = re.compile(r"\d(?:[,.] \d)+")


def code_in(message: OutboxMessage) -> str:
    """The code a message carries (`1234 5678`), or "" for a notice without one.

    Only codes are codes: an email's code stands on a line of its own; in a text the digit
    groups of a phone number (the helpdesk's `+1 425 555 0100` in every notice) are not one.
    """
    if message.channel == Channel.CALL:
        found = _SPOKEN.search(message.body)
        if found:
            digits = re.sub(r"\D", "", found.group())
            return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))
        return ""
    if message.channel == Channel.EMAIL:
        own = _OWN_LINE.search(message.body)
        return own.group(1) if own else ""
    for found in _SPACED.finditer(message.body):
        if not _PHONE_BEFORE.search(message.body[:found.start()]):
            return found.group()
    return ""
