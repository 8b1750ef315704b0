"""Proving who you are: choose a method, enter a code, answer questions, authenticator code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from kiosk import glyphs
from kiosk.backend import (
    Channel,
    CodeExpired,
    DeliveryFailed,
    FlowState,
    KioskError,
    MethodKind,
    MethodOption,
    Purpose,
    WrongAnswers,
    WrongCode,
)
from kiosk.i18n import t
from kiosk.screens.access_pass import PassScreen
from kiosk.screens.base import ChoiceFlowScreen, FlowScreen, FormScreen, KioskModal
from kiosk.screens.feedback import error_text, with_tries_left
from kiosk.screens.host import GoBack, ShowScreen
from kiosk.widgets.choices import Choice
from kiosk.widgets.countdown import Countdown
from kiosk.widgets.inputs import CodeInput, SecureInput
from kiosk.widgets.unbroken import Unbroken

TOTP_DIGITS = 6


def method_label(option: MethodOption) -> str:
    return t(f"method.{option.kind.value}", masked=option.masked)


# ---------------------------------------------------------------------------- choose method


class ChooseMethodScreen(ChoiceFlowScreen):
    HELP = "help.screen.choose_method"

    def compose_body(self) -> ComposeResult:
        state = self.state
        if state.purpose in (Purpose.REGISTER, Purpose.CHANGE):
            # signed in with the password: one more proof before security info changes
            yield Static(escape(t("verify.step_up")), classes="lead")
        elif state.gates_passed and state.gates_required > 1:
            yield Static(escape(t("verify.second_gate")), classes="lead")
        elif state.gates_required > 1:
            yield Static(escape(t("verify.two_gates")), classes="lead")
        yield Static(escape(t("verify.choose")), classes="lead")
        number = 0
        for option in state.methods:
            if option.passed:
                continue
            number += 1
            yield Choice(number, method_label(option), value=option.kind.value,
                         id=f"method-{option.kind.value}")
        for option in state.methods:
            if option.passed:
                label = f"{escape(method_label(option))} · {escape(t('verify.passed'))}"
                yield Static(f"{glyphs.ok()} {label}",
                             classes="passed")
        if number == 0:
            yield Static(escape(t("verify.no_methods")), classes="lead")
        elif [o.kind for o in state.methods if not o.passed] == [MethodKind.AUTHENTICATOR]:
            # why there is no other choice, and where to go without the phone. It follows
            # from what is offered alone, so a decoy offering the same looks the same
            helpdesk = self.kiosk.branding.helpdesk
            yield Unbroken(t("verify.authenticator_only", helpdesk=helpdesk) if helpdesk
                           else t("verify.authenticator_only.no_helpdesk"),
                           id="authenticator-only", classes="hint")

    def on_mount(self) -> None:
        choices = self.query(Choice)
        if choices:
            choices.first().focus()

    def option(self, kind: str) -> MethodOption:
        return next(o for o in self.state.methods if o.kind.value == kind)

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        kind = MethodKind(getattr(event.button, "value", ""))
        option = self.option(kind.value)
        self.clear_error()
        flow_id = self.state.flow_id
        backend = self.kiosk.backend
        if kind == MethodKind.QUESTIONS:
            await self.kiosk.proceed(backend.questions(flow_id))
        elif kind == MethodKind.AUTHENTICATOR:
            self.app.post_message(ShowScreen(TotpScreen(self.state)))
            return
        elif kind == MethodKind.PASS:
            self.app.post_message(ShowScreen(PassScreen(self.state)))
            return
        else:
            channels = option.channels or [Channel.CALL]
            if len(channels) > 1:
                self.app.push_screen(ChannelDialog(option), self._channel_chosen)
                return
            await self.kiosk.proceed(backend.send_code(flow_id, kind, channels[0]))

    async def _channel_chosen(self, choice: tuple[MethodKind, Channel] | None) -> None:
        if choice is None:
            return
        kind, channel = choice
        await self.kiosk.proceed(
            self.kiosk.backend.send_code(self.state.flow_id, kind, channel))


class ChannelDialog(KioskModal[tuple[MethodKind, Channel]]):
    """A phone can get a text or a call: which one?"""

    def __init__(self, option: MethodOption) -> None:
        super().__init__()
        self.option = option

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(escape(t("channel.question", masked=self.option.masked)),
                         classes="heading")
            for number, channel in enumerate(self.option.channels, start=1):
                yield Choice(number, t(f"channel.{channel.value}"), value=channel.value,
                             id=f"channel-{channel.value}")
            yield Static(escape(t("dialog.escape_back")), classes="hint")

    def on_mount(self) -> None:
        self.query(Choice).first().focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss((self.option.kind, Channel(getattr(event.button, "value", "text"))))


# ---------------------------------------------------------------------------- enter a code


class EnterCodeScreen(FormScreen, FlowScreen):
    """Enter the code that was sent; resend after the cooldown; the expiry counts down.

    Serves both verification (`verify_code`) and confirming a new contact at registration
    (`confirm_contact`, with `resend` repeating the add call).
    """

    HELP = "help.screen.code"
    BACK = "pop"
    SHOW_OUTBOX = True
    FOCUS = "#code"
    BUTTONS: ClassVar[dict[str, str]] = {"resend": "resend"}
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f5", "resend", show=False)]

    def __init__(
        self,
        state: FlowState,
        *,
        confirm: bool = False,
        resend: Callable[[], Awaitable[FlowState]] | None = None,
        notice: str = "",
    ) -> None:
        super().__init__(state)
        self.confirm = confirm
        self.resend_call = resend
        self.notice = notice

    def heading(self) -> str:
        if self.confirm:
            return t("register.confirm_heading")
        return super().heading()

    def hints(self) -> list[tuple[str, str]]:
        return [("Enter", t("hint.continue")), ("F5", t("hint.resend")),
                ("Esc", t("hint.other_method") if not self.confirm else t("hint.back")),
                ("F1", t("hint.help"))]

    def compose_body(self) -> ComposeResult:
        challenge = self.state.challenge
        assert challenge is not None
        clock = self.kiosk.clock
        yield Static(escape(t(f"code.sent.{challenge.channel.value}", masked=challenge.masked)),
                     classes="lead")
        yield Static(escape(t("code.label", n=challenge.code_length)), classes="label")
        yield CodeInput(challenge.code_length, id="code")
        yield Countdown(challenge.expires_at, clock,
                        lambda time: t("code.expires_in", time=time),
                        done_text=lambda: t("code.expired"), id="expiry", classes="hint")
        yield Countdown(challenge.resend_at, clock,
                        lambda time: t("code.resend_in", time=time),
                        done_text=lambda: t("code.resend_now"), id="resend-countdown",
                        classes="hint")
        # said to everyone: a decoy's code never comes, and a real one may be lost on the way
        helpdesk = self.kiosk.branding.helpdesk
        if self.confirm:
            help_text = (t("code.not_arrived.confirm", helpdesk=helpdesk) if helpdesk
                         else t("code.not_arrived.confirm_no_helpdesk"))
        else:
            help_text = (t("code.not_arrived", helpdesk=helpdesk) if helpdesk
                         else t("code.not_arrived.no_helpdesk"))
        yield Unbroken(help_text, id="not-arrived", classes="hint")
        with Horizontal(classes="buttons"):
            yield Button(t("button.continue"), id="submit", variant="primary", compact=True)
            yield Button(t("button.resend"), id="resend", compact=True)
        if self.notice:
            yield Static(escape(self.notice), classes="hint")

    async def submit(self) -> None:
        entry = self.query_one("#code", CodeInput)
        challenge = self.state.challenge
        assert challenge is not None
        if not entry.complete:
            self.show_error(t("code.incomplete", n=challenge.code_length))
            return
        self.clear_error()
        backend = self.kiosk.backend
        code = entry.code
        if self.confirm:
            call = backend.confirm_contact(self.state.flow_id, challenge.id, code)
        else:
            call = backend.verify_code(self.state.flow_id, challenge.id, code)
        await self.kiosk.proceed(call, on_error=self._on_error)

    async def _on_error(self, err: KioskError) -> bool:
        if isinstance(err, WrongCode | CodeExpired):
            self.query_one("#code", CodeInput).value = ""
        if isinstance(err, CodeExpired):
            reason = err.params.get("reason", "expired")
            self.show_error(t(f"error.code_expired.{reason}") if reason in (
                "expired", "used", "superseded") else t("error.code_expired"))
            return True
        if isinstance(err, DeliveryFailed):
            # the flow went back to choosing a method: say so there
            self.app.post_message(GoBack(error=error_text(err)))
            return True
        return False

    async def action_resend(self) -> None:
        challenge = self.state.challenge
        assert challenge is not None
        if self.resend_call is not None:
            call = self.resend_call()
        else:
            call = self.kiosk.backend.send_code(self.state.flow_id, challenge.method,
                                                challenge.channel)
        state = await self.kiosk.attempt(call, on_error=self._on_error)
        if state is not None:
            self.notice = t("code.new_sent")
            await self.kiosk.advance(state)


# ---------------------------------------------------------------------------- questions


class QuestionsScreen(FormScreen, FlowScreen):
    """All drawn questions on one screen, answers masked (F2 shows them)."""

    HELP = "help.screen.questions"
    BACK = "pop"
    BUTTONS: ClassVar[dict[str, str]] = {"show": "toggle_show"}
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f2", "toggle_show", show=False)]

    def __init__(self, state: FlowState, notice: str = "") -> None:
        super().__init__(state)
        self.notice = notice
        self.showing = False

    def hints(self) -> list[tuple[str, str]]:
        return [("Enter", t("hint.continue")), ("F2", t("hint.show")),
                ("Esc", t("hint.other_method")), ("F1", t("hint.help"))]

    def compose_body(self) -> ComposeResult:
        if self.notice:
            yield Static(f"{glyphs.warn()} {escape(self.notice)}", classes="notice")
        yield Static(escape(t("questions.lead")), classes="lead")
        for index, question in enumerate(self.state.questions, start=1):
            text = question.text if question.custom else t(f"question.{question.id}")
            yield Static(f"{index}. {escape(text)}", classes="label")
            yield SecureInput(id=f"answer-{index}", max_length=200)
        with Horizontal(classes="buttons"):
            yield Button(t("button.continue"), id="submit", variant="primary", compact=True)
            yield Button(t("button.show"), id="show", compact=True)

    async def on_mount(self) -> None:
        inputs = self.query(SecureInput)
        if inputs:
            inputs.first().focus()

    def field_after(self, field: Input) -> Widget | None:
        """The next answer while one is still empty (Enter submits from the last)."""
        inputs = list(self.query(SecureInput))
        index = inputs.index(field) if field in inputs else -1
        empty = next((i for i in inputs if not i.value.strip()), None)
        if empty is not None and index < len(inputs) - 1:
            return inputs[index + 1]
        return None

    async def entered(self, field: Input) -> None:
        if (after := self.field_after(field)) is not None:
            after.focus()
            return
        await self.submit()

    async def submit(self) -> None:
        inputs = list(self.query(SecureInput))
        answers = [field.value for field in inputs]
        if any(not a.strip() for a in answers):
            self.show_error(t("questions.empty"))
            return
        self.clear_error()
        await self.kiosk.proceed(
            self.kiosk.backend.answer(self.state.flow_id, answers), on_error=self._on_error)

    async def _on_error(self, err: KioskError) -> bool:
        if not isinstance(err, WrongAnswers):
            return False
        # a new set was drawn: fetch it and redraw (every answer field is rebuilt empty). With
        # as many registered as asked it is the same set again: say so, not "new questions"
        before = {question.id for question in self.state.questions}
        state = await self.kiosk.backend.questions(self.state.flow_id)
        same = {question.id for question in state.questions} == before
        self.notice = with_tries_left(
            t("error.wrong_answers.same" if same else "error.wrong_answers"), err)
        await self.update_state(state)
        return True


# ---------------------------------------------------------------------------- authenticator


class TotpEntryScreen(FormScreen, FlowScreen):
    """A screen with one authenticator-code field (#code): at reset, and at enrolment."""

    FOCUS = "#code"

    def send(self, code: str) -> Awaitable[FlowState]:
        raise NotImplementedError

    async def submit(self) -> None:
        entry = self.query_one("#code", CodeInput)
        if not entry.complete:
            self.show_error(t("code.incomplete", n=TOTP_DIGITS))
            return
        self.clear_error()
        await self.kiosk.proceed(
            self.send(entry.code),
            on_error=self._on_error)

    def _on_error(self, err: KioskError) -> bool:
        if isinstance(err, WrongCode):
            self.query_one("#code", CodeInput).value = ""
            self.show_error(with_tries_left(t("error.wrong_totp"), err))
            return True
        return False


class TotpScreen(TotpEntryScreen):
    HELP = "help.screen.totp"
    BACK = "pop"

    def hints(self) -> list[tuple[str, str]]:
        back = ("Esc", t("hint.other_method"))
        return [("Enter", t("hint.continue")), back, ("F1", t("hint.help"))]

    def heading(self) -> str:
        return super().heading()

    def compose_body(self) -> ComposeResult:
        yield Static(escape(t("totp.lead", org=self.kiosk.branding.organization)),
                     classes="lead")
        yield Static(escape(t("code.label", n=TOTP_DIGITS)), classes="label")
        yield CodeInput(TOTP_DIGITS, id="code")
        yield Static(escape(t("totp.hint")), classes="hint")
        yield Button(t("button.continue"), id="submit", variant="primary", compact=True)

    def send(self, code: str) -> Awaitable[FlowState]:
        return self.kiosk.backend.verify_totp(self.state.flow_id, code)
