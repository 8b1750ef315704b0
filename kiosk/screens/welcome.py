"""The welcome screen: what would you like to do, language, helpdesk."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.markup import escape
from textual.widgets import Button, Static

from kiosk import glyphs
from kiosk.backend import Purpose
from kiosk.i18n import LANGUAGES, get_language, t
from kiosk.screens.base import KioskScreen
from kiosk.screens.host import ChangeLanguage, ShowScreen
from kiosk.screens.identify import IdentifyScreen
from kiosk.widgets.choices import Choice

ACTIONS: tuple[tuple[Purpose, str], ...] = (
    (Purpose.RESET, "welcome.reset"),
    (Purpose.UNLOCK, "welcome.unlock"),
    (Purpose.REGISTER, "welcome.register"),
    (Purpose.CHANGE, "welcome.change"),
)


class WelcomeScreen(KioskScreen):
    SHOW_OUTBOX = True
    BACK = "none"
    HEADING = "welcome.heading"

    def __init__(self, notice: str = "") -> None:
        super().__init__()
        self.notice = notice

    def hints(self) -> list[tuple[str, str]]:
        return [("1-4", t("hint.choose")), ("Enter", t("hint.continue")), ("F1", t("hint.help"))]

    def compose_body(self) -> ComposeResult:
        branding = self.kiosk.branding
        if self.notice:
            yield Static(f"{glyphs.warn()} {escape(self.notice)}", classes="notice")
        if branding.demo:
            yield Static(escape(t("welcome.training")), classes="training-note")
        yield Static(escape(t("welcome.question")), classes="lead")
        number = 0
        for purpose, key in ACTIONS:
            if purpose in branding.purposes:
                number += 1
                yield Choice(number, t(key), value=purpose.value, id=f"action-{purpose.value}")
        languages = [lang for lang in branding.languages if lang in LANGUAGES]
        if len(languages) > 1:
            with Horizontal(id="languages"):
                yield Static(escape(t("welcome.language")), classes="label")
                for lang in languages:
                    number += 1
                    current = f" {glyphs.ok()}" if lang == get_language() else ""
                    yield Choice(number, LANGUAGES[lang] + current, value=f"lang:{lang}",
                                 id=f"lang-{lang}")
        yield Static(escape(t("welcome.helpdesk", helpdesk=branding.helpdesk)),
                     classes="helpdesk")
        if branding.helpdesk_url:
            yield Static(escape(branding.helpdesk_url), classes="helpdesk")

    def on_mount(self) -> None:
        choices = self.query(Choice)
        if choices:
            choices.first().focus()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        value = getattr(event.button, "value", "")
        if value.startswith("lang:"):
            self.app.post_message(ChangeLanguage(value.removeprefix("lang:")))
            return
        self.app.post_message(ShowScreen(IdentifyScreen(Purpose(value))))
