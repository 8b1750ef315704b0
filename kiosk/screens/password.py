"""Passwords: signing in with the current one, and choosing a new one with a live checklist."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.markup import escape
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from kiosk.backend import (
    Blocked,
    FlowExpired,
    FlowNotFound,
    FlowState,
    KioskError,
    PasswordCheck,
    PasswordRejected,
    PasswordViolation,
    Step,
    WrongPassword,
)
from kiosk.i18n import t
from kiosk.screens.base import FlowScreen, FormScreen
from kiosk.widgets.inputs import SecureInput
from kiosk.widgets.password import RuleChecklist, StrengthMeter, advice_text

DEBOUNCE = 0.15  # seconds between the last keystroke and the live check
WEAK = 1  # the meter's highest score for a password that fails a rule


class SignInScreen(FormScreen, FlowScreen):
    """Change and register start by proving you know the current password."""

    HELP = "help.screen.sign_in"
    BACK = "cancel"
    FOCUS = "#current"
    BUTTONS: ClassVar[dict[str, str]] = {"show": "toggle_show"}
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f2", "toggle_show", show=False)]

    def hints(self) -> list[tuple[str, str]]:
        return [("Enter", t("hint.continue")), ("F2", t("hint.show")),
                ("Esc", t("hint.back")), ("F1", t("hint.help"))]

    def compose_body(self) -> ComposeResult:
        yield Static(escape(t("signin.lead", username=self.kiosk.username)), classes="lead")
        yield Static(escape(t("signin.label")), classes="label")
        yield SecureInput(id="current", max_length=1024)
        with Horizontal(classes="buttons"):
            yield Button(t("button.sign_in"), id="submit", variant="primary", compact=True)
            yield Button(t("button.show"), id="show", compact=True)

    async def submit(self) -> None:
        field = self.query_one("#current", SecureInput)
        await self.submit_call(
            "" if field.value else t("signin.empty"),
            lambda: self.kiosk.backend.sign_in(self.state.flow_id, field.value),
            self._on_error)

    def _on_error(self, err: KioskError) -> bool:
        if isinstance(err, WrongPassword):
            self.query_one("#current", SecureInput).value = ""
        return False


class NewPasswordScreen(FormScreen, FlowScreen):
    """Typed twice, never copyable, checked live against every rule of the policy."""

    HELP = "help.screen.new_password"
    BACK = "cancel"
    BUTTONS: ClassVar[dict[str, str]] = {"show": "toggle_show"}
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f2", "toggle_show", show=False)]

    def __init__(self, state: FlowState) -> None:
        super().__init__(state)
        self.check: PasswordCheck | None = None
        self.checked_value: str | None = None
        self.showing = False
        self._timer: Timer | None = None

    def hints(self) -> list[tuple[str, str]]:
        return [("Enter", t("hint.continue")), ("F2", t("hint.show")),
                ("Esc", t("hint.cancel")), ("F1", t("hint.help"))]

    def compose_body(self) -> ComposeResult:
        branding = self.kiosk.branding
        yield Static(escape(t("newpw.lead")), classes="lead tight")
        # the labels sit in the fields' top borders: the screen must fit 80x24
        first = SecureInput(id="pw1", max_length=1024)
        first.border_title = t("newpw.label")
        yield first
        second = SecureInput(id="pw2", max_length=1024)
        second.border_title = t("newpw.again")
        yield second
        yield StrengthMeter(id="strength")
        yield RuleChecklist({"min": branding.password_min_length,
                             "max": branding.password_max_length}, id="rules")
        with Horizontal(classes="buttons"):
            yield Button(t("button.set_password"), id="submit", variant="primary",
                         compact=True, disabled=True)
            yield Button(t("button.show"), id="show", compact=True)

    async def on_mount(self) -> None:
        self.query_one("#pw1", SecureInput).focus()
        await self.run_check("")  # the checklist shows every rule from the start

    # -- state
    @property
    def first(self) -> str:
        return self.query_one("#pw1", SecureInput).value

    @property
    def second(self) -> str:
        return self.query_one("#pw2", SecureInput).value

    @property
    def matches(self) -> bool:
        return bool(self.second) and self.first == self.second

    @property
    def valid(self) -> bool:
        return (self.check is not None and self.check.ok and self.checked_value == self.first
                and self.matches)

    def refresh_checklist(self) -> None:
        self.query_one(RuleChecklist).show(self.check, self.matches, typed=bool(self.first))
        score = self.check.score if self.check is not None and self.first else None
        if score is not None and self.check is not None and self.check.violations:
            score = min(score, WEAK)  # never "strong" beside a rule it fails
        self.query_one(StrengthMeter).set_score(score)
        self.query_one("#submit", Button).disabled = not self.valid

    # -- live check
    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value:
            self.clear_error()  # it was about what the fields held before
        if event.input.id == "pw1":
            if self._timer is not None:
                self._timer.stop()
            self._timer = self.set_timer(DEBOUNCE, self._debounced)
        self.refresh_checklist()

    def _debounced(self) -> None:
        self.run_worker(self.run_check(self.first), exclusive=True, group="check")

    async def run_check(self, password: str) -> None:
        try:
            check = await self.kiosk.backend.check_password(self.state.flow_id, password)
        except KioskError as err:
            flow = self.kiosk.flow
            if flow is None or flow.step != Step.NEW_PASSWORD:
                return  # a late check after the password was set (or the visit ended)
            if isinstance(err, FlowExpired | FlowNotFound | Blocked):
                await self.kiosk.show_failure(err)
            return
        if password != self.first and password:
            return  # typed on meanwhile: a newer check is coming
        self.check, self.checked_value = check, password
        self.refresh_checklist()

    # -- submit
    def field_after(self, field: Input) -> Widget | None:
        return self.query_one("#pw2", SecureInput) if field.id == "pw1" else None

    async def entered(self, field: Input) -> None:
        if field.id == "pw1":
            self.query_one("#pw2", SecureInput).focus()
            return
        await self.submit()

    async def submit(self) -> None:
        if self._timer is not None:
            self._timer.stop()  # no live check after this one
        self.workers.cancel_group(self, "check")
        if self.checked_value != self.first:
            await self.run_check(self.first)  # Enter faster than the debounce
        problem = (t("newpw.mismatch") if not self.matches
                   else self.advice() if not self.valid else "")
        await self.submit_call(
            problem, lambda: self.kiosk.backend.set_password(self.state.flow_id, self.first),
            self._on_error)

    def _on_error(self, err: KioskError) -> bool:
        if not isinstance(err, PasswordRejected):
            return False
        raw = err.params.get("violations") or []
        violations = []
        for item in raw:
            try:
                violations.append(PasswordViolation.model_validate(item))
            except ValueError:
                continue
        rules = list(self.check.rules) if self.check else []
        rules += [v.rule for v in violations if v.rule not in rules]
        self.check = PasswordCheck(ok=False, violations=violations,
                                   score=int(err.params.get("score", 0) or 0), rules=rules)
        advice = self.advice()
        for field in self.query(SecureInput):  # the refused password goes from both fields
            field.value = ""
        self.query_one("#pw1", SecureInput).focus()
        self.refresh_checklist()
        self.show_error(advice)
        return True

    def advice(self) -> str:
        """Why the password cannot be used and what to do: the first rule it fails."""
        check = self.check
        if check is None or not check.violations:
            return t("newpw.not_valid")
        return t("newpw.cannot_use", advice=advice_text(check.violations[0]))
