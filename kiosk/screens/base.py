"""The base of every kiosk screen: frame, keys, error line, busy state.

Keys on every screen: digits 1-9 press the numbered choice, Enter submits (the focused input or
button), Escape goes back one step (what "back" means is the screen's `BACK`), F1 opens help.
No screen inherits Textual's default bindings (ctrl+c copy and the like).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from kiosk import glyphs
from kiosk.i18n import t
from kiosk.widgets.choices import Choice
from kiosk.widgets.chrome import KeyHints, KioskHeader
from kiosk.widgets.inputs import KioskInput
from kiosk.widgets.outbox import OutboxPanel

if TYPE_CHECKING:
    from kiosk.app import KioskApp

Back = Literal["none", "pop", "cancel", "restart", "welcome"]
# in `hints()`, the keys of the numbered choices: the footer shows the real range ("1-3")
CHOICE_KEYS = "1-9"

_NAV: list[BindingType] = [
    Binding("tab,down", "app.focus_next", show=False),
    Binding("shift+tab,up", "app.focus_previous", show=False),
]
# Tab and Enter between fields are decided by the app as each key arrives (priority bindings),
# not by the focused field after the keys queued behind it: a burst `pw⇥pw⏎` (auto-type, a
# paste, a laggy link) must put each part into the field the person meant (issue 13)
_FIELD_MOVES: list[BindingType] = [
    Binding("tab", "app.focus_next", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", show=False, priority=True),
    Binding("enter", "enter_field", show=False, priority=True),
]
_DIGITS: list[BindingType] = [
    Binding(str(n), f"choose({n})", show=False) for n in range(1, 10)
]


class Body(VerticalScroll, inherit_bindings=False, can_focus=False):
    """The scrolling middle of a screen; no keys of its own (up/down move the focus instead)."""


class ErrorLine(Static):
    """Where a screen says what went wrong (`⚠` so it reads without colour too)."""

    def __init__(self) -> None:
        super().__init__("", classes="error-line")
        self.display = False

    def say(self, text: str) -> None:
        self.update(f"{glyphs.warn()} {escape(text)}" if text else "")
        self.display = bool(text)


class ScreenMixin:
    """What kiosk screens and kiosk dialogs share."""

    @property
    def kiosk(self) -> KioskApp:
        return self.app  # type: ignore[attr-defined,return-value]

    def action_choose(self, number: int) -> None:
        for choice in self.query(Choice):  # type: ignore[attr-defined]
            if choice.number == number and not choice.disabled and choice.display:
                choice.focus()
                choice.press()
                return


class KioskScreen(ScreenMixin, Screen, inherit_bindings=False):
    BINDINGS: ClassVar[list[BindingType]] = [
        *_NAV,
        *_FIELD_MOVES,
        *_DIGITS,
        Binding("escape", "back", show=False),
        Binding("f1", "help", show=False),
    ]

    SHOW_OUTBOX: ClassVar[bool] = False
    BACK: ClassVar[Back] = "pop"
    HEADING: ClassVar[str] = ""  # catalogue key of the screen's heading
    HELP: ClassVar[str] = ""  # catalogue key of what F1 says about this screen

    def heading(self) -> str:
        return t(self.HEADING) if self.HEADING else ""

    def hints(self) -> list[tuple[str, str]]:
        hints = [("Enter", t("hint.continue"))]
        if self.BACK in ("pop", "cancel", "welcome"):
            hints.append(("Esc", t("hint.back")))
        elif self.BACK == "restart":
            hints.append(("Esc", t("hint.start_over")))
        hints.append(("F1", t("hint.help")))
        return hints

    def compose(self) -> ComposeResult:
        branding = self.kiosk.branding
        numbers: list[int] = []
        yield KioskHeader(branding.organization, branding.demo)
        with Horizontal(id="frame"):
            with Body(id="body"):
                if heading := self.heading():
                    yield Static(escape(heading), classes="heading")
                for widget in self.compose_body():
                    if isinstance(widget, Choice):
                        numbers.append(widget.number)
                    yield widget
                yield ErrorLine()
            if branding.demo and self.SHOW_OUTBOX:
                yield OutboxPanel()
        yield KeyHints(self._real_hints(numbers), id="hints")

    def _real_hints(self, numbers: list[int]) -> list[tuple[str, str]]:
        """`hints()` with CHOICE_KEYS as the numbers on screen ("1", "1-3"), or without it."""
        keys = f"{min(numbers)}-{max(numbers)}" if len(numbers) > 1 else "".join(
            str(n) for n in numbers)
        return [(keys if key == CHOICE_KEYS else key, text) for key, text in self.hints()
                if key != CHOICE_KEYS or keys]

    def compose_body(self) -> ComposeResult:
        yield from ()

    def focus_first(self) -> None:
        """Focus the first field, else the first choice, else the first button."""
        for kind in (Input, Choice, Button):
            found = [w for w in self.query(kind) if w.focusable]
            if found:
                found[0].focus()
                return

    def field_after(self, field: Input) -> Widget | None:
        """Where Enter in `field` moves the focus; None: Enter submits (the default)."""
        return None

    def action_enter_field(self) -> None:
        """Enter in a field that leads on to another: focus that one now, before the next key
        is handled. Enter that submits a field: queued behind the keys before it, so it submits
        what they typed and no key typed after it. Any other Enter goes on to the focused
        widget (a button press)."""
        focused = self.focused
        if not isinstance(focused, Input):
            raise SkipAction
        target = self.field_after(focused)
        if target is not None:
            self.set_focus(target)
        elif isinstance(focused, KioskInput):
            focused.post_message(KioskInput.SubmitHere())
        else:
            raise SkipAction

    def show_error(self, text: str) -> None:
        lines = self.query(ErrorLine)
        if lines:
            lines.last().say(text)
            if text:
                self.query_one("#body", Body).scroll_end(animate=False)

    def clear_error(self) -> None:
        self.show_error("")

    def set_busy(self, busy: bool) -> None:
        for button in self.query(Button):
            button.set_class(busy, "-busy")

    def confirm_cancel(self) -> bool:
        """Ask before cancelling? (Yes once something was proven: it would be lost.)"""
        flow = self.kiosk.flow
        return flow is not None and flow.gates_passed > 0

    async def action_back(self) -> None:
        if self.BACK == "pop":
            await self.kiosk.go_back()
        elif self.BACK == "cancel":
            if self.confirm_cancel():
                from kiosk.screens.dialogs import ConfirmCancelDialog

                self.kiosk.push_screen(ConfirmCancelDialog(), self._cancel_answer)
                return
            await self.kiosk.cancel_flow()
        elif self.BACK == "restart":
            await self.kiosk.new_visit()
        elif self.BACK == "welcome":
            await self.kiosk.back_to_welcome()

    async def _cancel_answer(self, cancel: bool | None) -> None:
        if cancel:
            await self.kiosk.cancel_flow()

    async def action_help(self) -> None:
        from kiosk.screens.dialogs import HelpScreen

        await self.kiosk.show(HelpScreen(self.HELP))


class KioskModal(ScreenMixin, ModalScreen, inherit_bindings=False):
    """A dialog over a screen; Escape closes it (with `None`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *_NAV,
        *_DIGITS,
        Binding("escape", "close", show=False),
    ]

    def action_close(self) -> None:
        self.dismiss(None)
