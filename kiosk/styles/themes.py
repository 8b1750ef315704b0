"""The kiosk's three themes: default, high contrast, and plain ANSI for 16-colour consoles.

`NO_COLOR` needs nothing here: Textual reads it and renders in monochrome.
"""

from __future__ import annotations

from textual.app import App
from textual.theme import BUILTIN_THEMES, Theme

DEFAULT = Theme(
    name="kiosk-default",
    primary="#2F6FB2",
    secondary="#4C8DCB",
    accent="#F2A541",
    warning="#F2A541",
    error="#E5484D",
    success="#46A758",
    foreground="#E8EEF5",
    background="#0F1B2A",
    surface="#16263A",
    panel="#1E3550",
    dark=True,
)

HIGH_CONTRAST = Theme(
    name="kiosk-high-contrast",
    primary="#FFFF00",
    secondary="#00FFFF",
    accent="#FFFF00",
    warning="#FFFF00",
    error="#FF6060",
    success="#00FF00",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#000000",
    boost="#000000",
    dark=True,
    luminosity_spread=0.0,
    text_alpha=1.0,
    variables={
        "border": "#FFFFFF",
        "border-blurred": "#FFFFFF",
        "block-cursor-foreground": "#000000",
        "block-cursor-background": "#FFFF00",
        "block-cursor-text-style": "bold",
        "input-cursor-background": "#FFFF00",
        "input-cursor-foreground": "#000000",
        "button-color-foreground": "#000000",
        "footer-key-foreground": "#FFFF00",
        "scrollbar": "#FFFFFF",
    },
)

_ansi = BUILTIN_THEMES["ansi-dark"]
ANSI = Theme(
    name="kiosk-ansi",
    primary=_ansi.primary,
    secondary=_ansi.secondary,
    warning=_ansi.warning,
    error=_ansi.error,
    success=_ansi.success,
    accent=_ansi.accent,
    foreground=_ansi.foreground,
    background=_ansi.background,
    surface=_ansi.surface,
    panel=_ansi.panel,
    boost=_ansi.boost,
    dark=True,
    ansi=True,
    variables=dict(_ansi.variables),
)

# the names the policy file uses (organization.theme) → Textual theme names
THEMES: dict[str, str] = {
    "default": DEFAULT.name,
    "high-contrast": HIGH_CONTRAST.name,
    "ansi": ANSI.name,
}


def register_themes(app: App) -> None:
    for theme in (DEFAULT, HIGH_CONTRAST, ANSI):
        app.register_theme(theme)
