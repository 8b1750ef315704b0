"""The base of every kiosk screen: frame, keys, error line, busy state.

Keys on every screen: digits 1-9 press the numbered choice, Enter submits (the focused input or
button), Escape goes back one step (what "back" means is the screen's `BACK`), F1 opens help.
No screen inherits Textual's default bindings (ctrl+c copy and the like).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, cast

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from kiosk import glyphs
from kiosk.backend import Step
from kiosk.i18n import t
from kiosk.screens.host import CancelFlow, GoBack, Kiosk, OnError, ShowHelp, StartOver
from kiosk.widgets.choices import Choice
from kiosk.widgets.chrome import KeyHints, KioskHeader
from kiosk.widgets.inputs import KioskInput, SecureInput
from kiosk.widgets.outbox import OutboxPanel

Back = Literal["none", "pop", "cancel", "restart", "welcome"]
# in `hints()`, the keys of the numbered choices: the footer shows the real range ("1-3")
CHOICE_KEYS = "1-9"
Result = TypeVar("Result")

VERIFYING = (Step.CHOOSE_METHOD, Step.VERIFY_CODE, Step.ANSWER_QUESTIONS, Step.VERIFY_TOTP)
# the proof screens and the step they lead to, as the progress indicator names them (the
# registration hub is a menu of its own, with no indicator)
STAGES = {**dict.fromkeys(VERIFYING, "verify"), Step.SIGN_IN: "sign_in",
          Step.NEW_PASSWORD: "new_password", Step.UNLOCK: "unlock"}

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


if TYPE_CHECKING:  # FlowState, a pydantic model, loads after the first frame
    from kiosk.backend import FlowState

    _MixinBase = Screen[Any]  # what the mixin is mixed into: its `app` and `query`
else:
    _MixinBase = object


class ScreenMixin(_MixinBase):
    """What kiosk screens and kiosk dialogs share."""

    @property
    def kiosk(self) -> Kiosk:
        return cast(Kiosk, self.app)

    def action_choose(self, number: int) -> None:
        for choice in self.query(Choice):
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
            self.app.post_message(GoBack())
        elif self.BACK == "cancel":
            self.app.post_message(CancelFlow(confirm=self.confirm_cancel()))
        elif self.BACK == "restart":
            self.app.post_message(StartOver())
        elif self.BACK == "welcome":
            # a new visit (keeping the language): nothing of the visitor stays on the terminal
            self.app.post_message(StartOver(keep_language=True))

    async def action_help(self) -> None:
        self.app.post_message(ShowHelp(self.HELP))


class FormScreen(KioskScreen):
    """A screen with fields. `FOCUS` (a selector) has the focus when it opens; Enter in a field
    calls `entered` (by default: submit); a button runs the action `BUTTONS` names for its id,
    any other button submits. Subclasses override these hooks, never the handlers (Textual
    calls the handler of every class in the hierarchy)."""

    FOCUS: ClassVar[str] = ""
    BUTTONS: ClassVar[dict[str, str]] = {}
    showing = False  # the secret fields are shown (F2)

    async def submit(self) -> None:
        raise NotImplementedError

    async def on_mount(self) -> None:
        if self.FOCUS:
            self.query_one(self.FOCUS).focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.value != event.value:
            # keys typed after Enter (for the next screen) are not part of what it submitted
            event.input.value = event.value
        await self.entered(event.input)

    async def entered(self, field: Input) -> None:
        await self.submit()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = self.BUTTONS.get(event.button.id or "")
        if action is None:
            await self.submit()
        else:
            await self.run_action(action)

    def action_toggle_show(self) -> None:
        """F2 or the Show button: show or mask every secret field."""
        self.showing = not self.showing
        for field in self.query(SecureInput):
            field.reveal(self.showing)
        self.query_one("#show", Button).label = t("button.hide" if self.showing else "button.show")


class FlowScreen(KioskScreen):
    """A screen showing one state of the flow; `update_state` redraws it for a newer one."""

    def __init__(self, state: FlowState) -> None:
        super().__init__()
        self.state = state

    def heading(self) -> str:
        heading = t(f"purpose.{self.state.purpose.value}")
        progress = self.progress()
        return f"{heading} · {progress}" if progress else heading

    def progress(self) -> str:
        """"Step 1 of 2 · verify": one step per proof, then the one it is for. For everybody;
        the total is the engine's `gates_required`, which shows an administrator's second
        proof only after the first succeeded (until then every account looks alike)."""
        state = self.state
        stage = STAGES.get(state.step)
        if stage is None:
            return ""
        total = state.gates_required + 1
        if state.step == Step.SIGN_IN:
            number = 1
        elif state.step in VERIFYING:
            number = min(state.gates_passed + 1, state.gates_required)
        else:
            number = total
        return t("progress.step", n=number, m=total, stage=t(f"progress.{stage}"))

    async def update_state(self, state: FlowState) -> None:
        self.state = state
        await self.recompose()
        self.focus_first()

    async def submit_call(self, problem: str, call: Callable[[], Awaitable[FlowState]],
                          on_error: OnError | None = None) -> None:
        """Say `problem` and stay when there is one (nothing is sent); else clear the error
        line and make the flow call."""
        if problem:
            self.show_error(problem)
            return
        self.clear_error()
        await self.kiosk.proceed(call(), on_error=on_error)


class ChoiceFlowScreen(FlowScreen):
    """A flow screen that is a numbered choice: Esc cancels the flow, the demo shows its outbox."""

    BACK = "cancel"
    SHOW_OUTBOX = True

    def hints(self) -> list[tuple[str, str]]:
        return [(CHOICE_KEYS, t("hint.choose")), ("Esc", t("hint.cancel")),
                ("F1", t("hint.help"))]


class KioskModal(ScreenMixin, ModalScreen[Result], inherit_bindings=False):
    """A dialog over a screen, answering with a `Result`; Escape closes it (with `None`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *_NAV,
        *_DIGITS,
        Binding("escape", "close", show=False),
    ]

    def action_close(self) -> None:
        self.dismiss(None)
