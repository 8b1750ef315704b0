"""Every text the kiosk draws reads at WCAG AA (>= 4.5:1), in every theme and terminal.

A Pilot walks alice's reset (welcome, user name, method, a wrong code, the new password with a
failing rule, help, the cancel dialog) and measures every cell of text on each screen as the
terminal would show it (tests/ui/contrast.py).
"""

from __future__ import annotations

import pytest

from kiosk.app import KioskApp
from kiosk.screens.identify import IdentifyScreen
from kiosk.screens.password import NewPasswordScreen
from kiosk.screens.verify import ChooseMethodScreen, EnterCodeScreen
from kiosk.screens.welcome import WelcomeScreen
from tests.support.pilot import MakeApp, driving, screen_text

from .contrast import CONSOLE, TRUECOLOR, XTERM_256, Sample, Terminal, samples

AA = 4.5

pytestmark = pytest.mark.usefixtures("deterministic")

CASES = {
    # id: (theme, terminal, environment)
    "default": ("default", TRUECOLOR, {"TERM": "xterm-256color", "COLORTERM": "truecolor"}),
    "default-256": ("default", XTERM_256, {"TERM": "xterm-256color"}),
    "high-contrast": ("high-contrast", TRUECOLOR, {"TERM": "xterm-256color",
                                                   "COLORTERM": "truecolor"}),
    "high-contrast-256": ("high-contrast", XTERM_256, {"TERM": "xterm-256color"}),
    "ansi": ("ansi", XTERM_256, {"TERM": "xterm-256color"}),
    "console": (None, CONSOLE, {"TERM": "linux"}),
    "no-color": ("default", TRUECOLOR, {"TERM": "xterm-256color", "NO_COLOR": "1"}),
    "no-color-console": (None, CONSOLE, {"TERM": "linux", "NO_COLOR": "1"}),
}


async def walk(app: KioskApp, terminal: Terminal) -> list[tuple[str, Sample]]:
    seen: list[tuple[str, Sample]] = []
    app.shown = {}  # type: ignore[attr-defined]

    def look(where: str) -> None:
        seen.extend((where, sample) for sample in samples(app, terminal))
        app.shown[where] = screen_text(app)  # type: ignore[attr-defined]

    async with driving(app) as k:
        await k.at(WelcomeScreen)
        look("welcome")
        await k.press("1")
        await k.at(IdentifyScreen)
        look("identify, empty")
        await k.type("alice")
        look("identify")
        await k.enter()
        await k.at(ChooseMethodScreen)
        look("choose method")
        await k.press("1")
        await k.at(EnterCodeScreen)
        await k.sees("1234 5678")
        await k.type("87654321")
        await k.enter()
        await k.sees("That code is not right")
        look("wrong code")
        await k.type("12345678")
        await k.enter()
        await k.at(NewPasswordScreen)
        look("new password, empty")
        await k.type("password")
        await k.pilot.pause(0.5)
        look("new password, failing")
        await k.press("f1")
        await k.pilot.pause()
        look("help")
        await k.press("escape")
        await k.pilot.pause()
        await k.press("escape")
        await k.pilot.pause()
        look("cancel dialog")
    return seen


@pytest.mark.parametrize("case", list(CASES))
async def test_every_text_reads_at_aa(case: str, make_app: MakeApp,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    theme, terminal, env = CASES[case]
    for name in ("TERM", "COLORTERM", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = make_app(theme=theme)
    seen = await walk(app, terminal)
    assert len({where for where, _ in seen}) >= 9  # every screen was measured
    low = sorted({(round(s.ratio, 2), where, s.text[:30], s.fg, s.bg)
                  for where, s in seen if s.ratio < AA})
    worst = min(s.ratio for _, s in seen)
    print(f"{case}: lowest {worst:.2f}")
    assert not low, "\n".join(f"{r:5.2f} {w}: {t!r} {fg} on {bg}" for r, w, t, fg, bg in low)


NOT_IN_CONSOLE_FONTS = "✓✗⚠▔▁▊▎▌□"


async def test_the_console_gets_glyphs_its_font_has(make_app: MakeApp,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "linux")
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app()
    await walk(app, CONSOLE)
    for where, text in app.shown.items():  # type: ignore[attr-defined]
        assert not set(text) & set(NOT_IN_CONSOLE_FONTS), f"{where}:\n{text}"
    failing = app.shown["new password, failing"]  # type: ignore[attr-defined]
    assert "x Not a commonly used" in failing or "x " in failing  # the checklist's signal
    assert "+-" in failing  # ASCII field frames
