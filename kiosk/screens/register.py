"""Registering security info: the overview, contacts (confirmed by a code), security
questions, and the authenticator app (QR code, or the text secret when the terminal is small)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static

from kiosk import glyphs
from kiosk.backend import (
    AuthenticatorEnrollment,
    Channel,
    FlowState,
    InvalidInput,
    KioskError,
    MethodKind,
    MethodOption,
    Question,
    QuestionAnswer,
)
from kiosk.i18n import t
from kiosk.screens.base import ChoiceFlowScreen, FlowScreen, FormScreen, KioskScreen
from kiosk.screens.host import ShowScreen
from kiosk.screens.verify import TOTP_DIGITS, ChannelDialog, TotpEntryScreen
from kiosk.widgets.choices import Choice
from kiosk.widgets.inputs import CodeInput, KioskInput, SecureInput
from kiosk.widgets.qr import QRView, qr_size

ANSWER_MIN, ANSWER_MAX = 3, 40  # DESIGN.md: answers 3-40 characters (the engine checks again)


def grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


class RegistrationScreen(ChoiceFlowScreen):
    """The overview: what is registered, what is missing, what can be added."""

    HELP = "help.screen.register"

    def compose_body(self) -> ComposeResult:
        status = self.state.registration
        yield Static(escape(t("register.lead", username=self.kiosk.username)), classes="lead")
        registered = status.registered if status else []
        if registered:
            for option in registered:
                masked = f"  {option.masked}" if option.masked else ""
                kind = escape(t(f"kind.{option.kind.value}"))
                yield Static(f"{glyphs.ok()} {kind}{escape(masked)}",
                             classes="passed")
        else:
            yield Static(escape(t("register.nothing")), classes="hint")
        if status and status.missing:
            yield Static(f"{glyphs.warn()} {escape(t('register.missing', n=status.missing))}",
                         classes="notice")
        elif status and status.reconfirm_due:
            yield Static(escape(t("register.reconfirm")), classes="notice")
        number = 0
        for kind in status.available if status else []:
            number += 1
            yield Choice(number, t(f"register.add.{kind.value}"), value=kind.value,
                         id=f"add-{kind.value}")
        yield Choice(number + 1, t("register.finish"), value="finish", id="finish")

    def on_mount(self) -> None:
        self.query(Choice).first().focus()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        value = getattr(event.button, "value", "")
        if value == "finish":
            await self.kiosk.proceed(
                self.kiosk.backend.finish_registration(self.state.flow_id))
            return
        kind = MethodKind(value)
        if kind == MethodKind.QUESTIONS:
            pool = await self.kiosk.attempt(self.kiosk.backend.question_pool(self.state.flow_id))
            if pool is not None:
                self.app.post_message(ShowScreen(SetQuestionsScreen(self.state, pool)))
        elif kind == MethodKind.AUTHENTICATOR:
            enrollment = await self.kiosk.attempt(
                self.kiosk.backend.begin_authenticator(self.state.flow_id))
            if enrollment is not None:
                self.app.post_message(ShowScreen(AuthenticatorScreen(self.state, enrollment)))
        else:
            self.app.post_message(ShowScreen(AddContactScreen(self.state, kind)))


class AddContactScreen(FormScreen, FlowScreen):
    """An email address or a phone number; a code is sent to it to confirm it."""

    HELP = "help.screen.add_contact"
    BACK = "pop"
    FOCUS = "#contact"

    def __init__(self, state: FlowState, kind: MethodKind) -> None:
        super().__init__(state)
        self.kind = kind
        self.resend_value = ""
        self.resend_channel = Channel.EMAIL

    def heading(self) -> str:
        return t(f"register.add.{self.kind.value}")

    def compose_body(self) -> ComposeResult:
        yield Static(escape(t(f"register.{self.kind.value}.lead")), classes="lead")
        yield Static(escape(t(f"register.{self.kind.value}.label")), classes="label")
        yield KioskInput(id="contact", max_length=254,
                         placeholder=t(f"register.{self.kind.value}.placeholder"))
        yield Button(t("button.send_code"), id="submit", variant="primary", compact=True)

    async def submit(self) -> None:
        value = self.query_one("#contact", KioskInput).value.strip()
        if not value:
            self.show_error(t(f"register.{self.kind.value}.empty"))
            return
        self.clear_error()
        if self.kind == MethodKind.EMAIL:
            await self.send(value, Channel.EMAIL)
        elif self.kind == MethodKind.MOBILE:
            option = MethodOption(kind=self.kind, masked=value,
                                  channels=[Channel.TEXT, Channel.CALL])
            self.app.push_screen(
                ChannelDialog(option),
                lambda choice: self._channel_chosen(value, choice))
        else:
            await self.send(value, Channel.CALL)

    async def _channel_chosen(self, value: str,
                              choice: tuple[MethodKind, Channel] | None) -> None:
        if choice is not None:
            await self.send(value, choice[1])

    def call(self, value: str, channel: Channel) -> Awaitable[FlowState]:
        backend, flow_id = self.kiosk.backend, self.state.flow_id
        if self.kind == MethodKind.EMAIL:
            return backend.add_email(flow_id, value)
        return backend.add_phone(flow_id, self.kind, value, channel)

    async def send(self, value: str, channel: Channel) -> None:
        self.resend_value, self.resend_channel = value, channel
        await self.kiosk.proceed(self.call(value, channel), on_error=self._on_error)

    def resend(self) -> Awaitable[FlowState]:
        return self.call(self.resend_value, self.resend_channel)

    def _on_error(self, err: KioskError) -> bool:
        if isinstance(err, InvalidInput):
            self.show_error(t(f"register.{self.kind.value}.invalid"))
            return True
        return False


class SetQuestionsScreen(FormScreen, FlowScreen):
    """Pick `questions_to_register` questions from the pool and answer each (masked); F3 adds
    more, up to the pool's size (resets then draw from all of them)."""

    HELP = "help.screen.set_questions"
    BACK = "pop"
    FOCUS = "#question-1"
    BUTTONS: ClassVar[dict[str, str]] = {"show": "toggle_show", "add": "add_question"}
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f2", "toggle_show", show=False),
                                             Binding("f3", "add_question", show=False)]

    def __init__(self, state: FlowState, pool: list[Question]) -> None:
        super().__init__(state)
        self.pool = pool
        status = state.registration
        self.count = status.questions_to_register if status else 3
        self.showing = False

    def heading(self) -> str:
        return t("register.add.questions")

    def hints(self) -> list[tuple[str, str]]:
        return [("Enter", t("hint.continue")), ("F2", t("hint.show")),
                ("F3", t("hint.add_question")), ("Esc", t("hint.back")), ("F1", t("hint.help"))]

    def compose_body(self) -> ComposeResult:
        yield Static(escape(t("register.questions.lead", n=self.count, most=len(self.pool))),
                     classes="lead")
        for index in range(1, self.count + 1):
            yield self.row(index)
        with Horizontal(classes="buttons"):
            yield Button(t("button.save"), id="submit", variant="primary", compact=True)
            yield Button(t("button.show"), id="show", compact=True)
            yield Button(t("button.add_question"), id="add", compact=True)

    def row(self, index: int) -> Vertical:
        """Question `index`: its choice from the pool and its answer."""
        options = [(t(f"question.{q.id}"), q.id) for q in self.pool]
        answer = SecureInput(id=f"answer-{index}", max_length=200, compact=True,
                             placeholder=t("register.questions.answer"))
        answer.reveal(self.showing)
        return Vertical(Select(options, prompt=t("register.questions.pick", n=index),
                               id=f"question-{index}", compact=True), answer, classes="qa")

    async def action_add_question(self) -> None:
        """One more question, up to the pool's size: resets draw from every one registered."""
        if self.count >= len(self.pool):
            self.show_error(t("register.questions.all", n=len(self.pool)))
            return
        self.count += 1
        await self.query_one("#body").mount(self.row(self.count),
                                            before=self.query_one("Horizontal.buttons"))
        self.query_one(f"#question-{self.count}", Select).focus()

    def field_after(self, field: Input) -> Widget | None:
        """From an answer to the next question's choice (Enter saves from the last answer)."""
        if field.id == f"answer-{self.count}" or not field.id:
            return None
        index = int(field.id.removeprefix("answer-"))
        return self.query_one(f"#question-{index + 1}", Select)

    async def entered(self, field: Input) -> None:
        if field.id != f"answer-{self.count}":
            self.focus_next()
            return
        await self.submit()

    def entries(self) -> list[QuestionAnswer] | str:
        """The entries, or the (translated) reason they cannot be sent yet."""
        entries: list[QuestionAnswer] = []
        seen_q: set[str] = set()
        seen_a: set[str] = set()
        for index in range(1, self.count + 1):
            question = self.query_one(f"#question-{index}", Select).value
            answer = self.query_one(f"#answer-{index}", SecureInput).value
            if not isinstance(question, str):
                return t("register.questions.missing", n=index)
            if question in seen_q:
                return t("register.questions.twice", n=index)
            norm = " ".join(answer.casefold().split())
            if not ANSWER_MIN <= len(norm) <= ANSWER_MAX:
                return t("register.questions.length", n=index, min=ANSWER_MIN, max=ANSWER_MAX)
            if norm in seen_a:
                return t("register.questions.same_answer", n=index)
            seen_q.add(question)
            seen_a.add(norm)
            entries.append(QuestionAnswer(question_id=question, answer=answer))
        return entries

    async def submit(self) -> None:
        entries = self.entries()
        if isinstance(entries, str):
            self.show_error(entries)
            return
        self.clear_error()
        await self.kiosk.proceed(
            self.kiosk.backend.set_questions(self.state.flow_id, entries),
            on_error=self._on_error)

    def _on_error(self, err: KioskError) -> bool:
        if isinstance(err, InvalidInput):
            # the engine's problems name the question by number; say it in the visitor's words
            self.show_error(t("register.questions.rejected"))
            return True
        return False


class AuthenticatorScreen(TotpEntryScreen):
    """Scan the QR code (or type the secret), then enter the app's first code."""

    HELP = "help.screen.authenticator"
    BACK = "pop"

    def __init__(self, state: FlowState, enrollment: AuthenticatorEnrollment) -> None:
        super().__init__(state)
        self.enrollment = enrollment

    def heading(self) -> str:
        return t("register.add.authenticator")

    def qr_fits(self) -> bool:
        width, height = qr_size(self.enrollment.uri)
        size = self.app.size
        # the QR code sits left of the instructions; header, heading and key line take 4 rows
        return size.width >= width + 36 and size.height >= height + 4

    def compose_body(self) -> ComposeResult:
        fits = self.qr_fits()
        with Horizontal(id="enrol"):
            if fits:
                yield QRView(self.enrollment.uri, id="qr")
            with Vertical(id="enrol-text"):
                yield Static(escape(t("totp.enrol.scan" if fits else "totp.enrol.type")),
                             classes="lead")
                yield Static(escape(t("totp.enrol.secret")), classes="label")
                yield Static(escape(grouped(self.enrollment.secret)), id="secret",
                             classes="secret")
                yield Static(escape(t("totp.enrol.code", n=TOTP_DIGITS)), classes="label")
                yield CodeInput(TOTP_DIGITS, id="code")
                registration = self.state.registration
                if registration is not None and registration.authenticator_required:
                    yield Static(escape(t("totp.enrol.required")), id="totp-required",
                                 classes="hint")
                yield Button(t("button.continue"), id="submit", variant="primary", compact=True)

    async def on_resize(self) -> None:
        if self.qr_fits() != bool(self.query(QRView)):
            await self.recompose()
            self.query_one("#code", CodeInput).focus()

    def send(self, code: str) -> Awaitable[FlowState]:
        return self.kiosk.backend.confirm_authenticator(self.state.flow_id, code)


__all__ = ["AddContactScreen", "AuthenticatorScreen", "KioskScreen", "RegistrationScreen",
           "SetQuestionsScreen"]
