"""A line of text that counts down to a deadline and says when it got there."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from textual.message import Message
from textual.widgets import Static


def format_seconds(seconds: float) -> str:
    """`0:42`, `9:59`; never negative."""
    total = max(0, int(seconds + 0.999))
    return f"{total // 60}:{total % 60:02d}"


class Countdown(Static):
    """Shows `template.format(time=m:ss)` until `deadline`, then `done_text` (if any).

    `clock` is the app's clock (injectable, so tests and screenshots can freeze time).
    """

    class Finished(Message):
        def __init__(self, countdown: Countdown) -> None:
            super().__init__()
            self.countdown = countdown

    def __init__(
        self,
        deadline: datetime,
        clock: Callable[[], datetime],
        template: Callable[[str], str],
        *,
        done_text: Callable[[], str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__("", **kwargs)
        self.deadline = deadline
        self.clock = clock
        self.template = template
        self.done_text = done_text
        self.finished = False

    def on_mount(self) -> None:
        self.tick()
        self.set_interval(1.0, self.tick)

    def restart(self, deadline: datetime) -> None:
        self.deadline = deadline
        self.finished = False
        self.tick()

    @property
    def remaining(self) -> float:
        return (self.deadline - self.clock()).total_seconds()

    def tick(self) -> None:
        remaining = self.remaining
        if remaining > 0:
            self.update(self.template(format_seconds(remaining)))
            return
        if self.done_text is not None:
            self.update(self.done_text())
        if not self.finished:
            self.finished = True
            self.post_message(self.Finished(self))
