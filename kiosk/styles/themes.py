"""The kiosk's three themes: default, high contrast, and plain ANSI for 16-colour consoles.

`NO_COLOR` needs nothing here: Textual reads it and renders in monochrome.
"""

from __future__ import annotations

import os

from textual.app import App
from textual.theme import BUILTIN_THEMES, Theme

# primary: header text on it >= 4.5:1 (#2F6FB2 was 4.35); error: 5.8:1 on the background
# (#E5484D was 4.4)
DEFAULT = Theme(
    name="kiosk-default",
    primary="#24578F", secondary="#4C8DCB", accent="#F2A541",
    warning="#F2A541", error="#F06A6E", success="#46A758",
    foreground="#E8EEF5", background="#0F1B2A", surface="#16263A", panel="#1E3550",
    dark=True,
    variables={
        # Textual's muted/disabled text is the foreground at 60%/38%: 1.7-3.3:1 here
        "text-muted": "#B8C6D6",
        "text-disabled": "#B8C6D6",
    },
)

HIGH_CONTRAST = Theme(
    name="kiosk-high-contrast",
    primary="#FFFF00", secondary="#00FFFF", accent="#FFFF00",
    warning="#FFFF00", error="#FF6060", success="#00FF00",
    foreground="#FFFFFF", background="#000000", surface="#000000", panel="#000000",
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
        "text-muted": "#FFFFFF",
        "text-disabled": "#FFFFFF",
    },
)

_ansi = BUILTIN_THEMES["ansi-dark"]
# The 16 colours of a console: the dark reds, blues and magentas are below 4.5:1 on black (the
# Linux console's red is 2.7:1), so text uses the bright colours; headings are cyan, not the
# red of the errors.
ANSI = Theme(
    name="kiosk-ansi",
    primary=_ansi.primary,
    secondary=_ansi.secondary,
    warning="ansi_bright_yellow",
    error="ansi_bright_red",
    success="ansi_bright_green",
    accent="ansi_bright_cyan",
    foreground=_ansi.foreground,
    background=_ansi.background,
    surface=_ansi.surface,
    panel=_ansi.panel,
    boost=_ansi.boost,
    dark=True,
    ansi=True,
    variables={
        **_ansi.variables,
        # an unfocused field's frame and title were black on black
        "border-blurred": "ansi_white",
        "text-muted": "ansi_default",
        "text-disabled": "ansi_default",
        "footer-key-foreground": "ansi_bright_yellow",
    },
)

# the names the policy file uses (organization.theme) → Textual theme names
THEMES: dict[str, str] = {
    "default": DEFAULT.name,
    "high-contrast": HIGH_CONTRAST.name,
    "ansi": ANSI.name,
}


def console_terminal() -> bool:
    """The Linux console (`TERM=linux`): 16 colours and a 256/512-glyph font."""
    return os.environ.get("TERM", "") == "linux"


def theme_for(name: str | None) -> str:
    """The Textual theme for a policy/command-line theme name. The default theme's true colours
    are unreadable when a 16-colour console approximates them: the console gets the ANSI one."""
    name = name or "default"
    if name == "default" and console_terminal():
        name = "ansi"
    return THEMES.get(name, THEMES["default"])


def register_themes(app: App) -> None:
    for theme in (DEFAULT, HIGH_CONTRAST, ANSI):
        app.register_theme(theme)
