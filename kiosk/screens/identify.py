"""Who are you? The username, then the backend decides what comes next."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.markup import escape
from textual.widgets import Button, Static

from kiosk.backend import Purpose
from kiosk.i18n import t
from kiosk.screens.base import FormScreen
from kiosk.widgets.inputs import KioskInput


class IdentifyScreen(FormScreen):
    """The anchor of a flow: Escape on a flow's first screen cancels it and comes back here."""

    BACK = "welcome"  # a new visit: nothing typed here stays behind
    FOCUS = "#username"

    def __init__(self, purpose: Purpose, username: str = "") -> None:
        super().__init__()
        self.purpose = purpose
        self.username = username

    def heading(self) -> str:
        return t(f"purpose.{self.purpose.value}")

    def compose_body(self) -> ComposeResult:
        yield Static(escape(t("identify.lead")), classes="lead")
        yield Static(escape(t("identify.label")), classes="label")
        yield KioskInput(value=self.username, id="username", max_length=256,
                         placeholder=t("identify.placeholder"))
        yield Static(escape(self.hint()), classes="hint")
        yield Button(t("button.continue"), id="submit", variant="primary", compact=True)

    def hint(self) -> str:
        """The forms the organisation accepts: 'jsmith, jsmith@contoso.org or CONTOSO\\jsmith'
        (one domain and one prefix, the first of each); without any, the bare name."""
        branding = self.kiosk.branding
        name = t("identify.example_name")
        forms = [name] + [f"{name}@{d}" for d in branding.sign_in_domains[:1]] + [
            f"{p}\\{name}" for p in branding.sign_in_prefixes[:1]]
        if len(forms) == 1:
            return t("identify.hint")
        listed = ", ".join(forms[:-1]) + f" {t('identify.or')} {forms[-1]}"
        return t("identify.hint_forms", forms=listed)

    def on_screen_resume(self) -> None:
        self.clear_error()
        self.query_one("#username", KioskInput).focus()

    async def submit(self) -> None:
        username = self.query_one("#username", KioskInput).value.strip()
        if not username:
            self.show_error(t("identify.empty"))
            return
        self.clear_error()
        await self.kiosk.start_flow(self.purpose, username)
