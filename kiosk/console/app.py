"""`kiosk console`: the helpdesk's Textual app (keyboard-first, the kiosk's themes and
languages). The shell only: a header, one page per function key, the key hints. Pages are
widgets that get the console's DeskSource (kiosk/console/source.py) through `self.console`,
or screens of their own (policy, explain, reports) pushed over the shell; Escape, or another
page's key, comes back.

Adding a page is one line in PAGES: its key, its title's catalogue key, and "module:Class"
(imported when the console starts, so a page of another package plugs in the same way); a
screen page names "module:function" making the screen from the console (kiosk/console/screens.py).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Footer, Static

from kiosk.console.reports.source import ConsoleData
from kiosk.console.screens import PageUnavailable
from kiosk.console.source import DeskSource
from kiosk.i18n import DEFAULT_LANGUAGE, LANGUAGES, set_language, t
from kiosk.styles.themes import console_terminal, register_themes, theme_for

STYLES = Path(__file__).resolve().parent.parent / "styles"


@dataclass(frozen=True)
class Page:
    key: str  # the function key that shows it
    title: str  # catalogue key of its tab title
    target: str  # "module:Class" of a Widget taking no arguments, or with `screen`
    # "module:function" taking the ConsoleApp and returning the Screen to push
    screen: bool = False

    @property
    def name(self) -> str:
        return self.title.rpartition(".")[2]

    def load(self) -> object:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


PAGES: list[Page] = [
    Page("f2", "console.page.cases", "kiosk.console.cases:CasesPage"),
    Page("f3", "console.page.passes", "kiosk.console.passes:PassesPage"),
    Page("f4", "console.page.board", "kiosk.console.board:BoardPage"),  # its own F5 refreshes
    Page("f6", "console.page.policy", "kiosk.console.screens:policy", screen=True),
    Page("f7", "console.page.explain", "kiosk.console.screens:explain", screen=True),
    Page("f8", "console.page.reports", "kiosk.console.screens:reports", screen=True),
]


def load_page(page: Page) -> Widget:
    widget: Widget = page.load()()  # type: ignore[operator]
    widget.id = page.name
    return widget


class Tabs(Static):
    """The page titles with their keys; the current one marked."""

    def show(self, current: str) -> None:
        parts = []
        for page in PAGES:
            label = f" {page.key.upper()} {t(page.title)} "
            parts.append(f"[reverse]{label}[/]" if page.name == current else label)
        self.update(" ".join(parts))


class ConsoleApp(App[None]):
    TITLE = "Helpdesk console"
    CSS_PATH: ClassVar = [STYLES / "console.tcss"]
    BINDINGS: ClassVar = [
        *(Binding(p.key, f"page('{p.name}')", t(p.title), priority=True) for p in PAGES),
        Binding("f9", "language", "Language", priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, source: DeskSource, *, theme: str | None = None,
                 language: str | None = None, refresh_seconds: float = 1.0,
                 where: str = "", data: ConsoleData | None = None,
                 policy_file: Path | None = None, export_dir: Path = Path(".")) -> None:
        super().__init__()
        self.source = source
        self.refresh_seconds = refresh_seconds  # 0: only on demand (tests)
        self.where = where  # the database or API the console works on, for the header
        # the screen pages': explain and reports data (the same database or API), the policy
        # file the console was started with, where reports export their CSV
        self.data = data
        self.policy_file = policy_file
        self.export_dir = export_dir
        self._shown: tuple[str, Screen[object]] | None = None  # the screen page pushed last
        set_language(language or DEFAULT_LANGUAGE)
        register_themes(self)
        self.theme = theme_for(theme)
        if console_terminal():
            self.add_class("-console")

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static(self.header_text(), id="title")
        yield Tabs(id="tabs")
        with ContentSwitcher(initial=PAGES[0].name, id="pages"):
            for page in PAGES:
                if not page.screen:
                    yield load_page(page)
        yield Footer()

    def header_text(self) -> str:
        return t("console.title", agent=self.source.agent, where=self.where)

    def on_mount(self) -> None:
        self.query_one(Tabs).show(self.current_page)
        self.call_after_refresh(self.focus_page)

    @property
    def shell(self) -> Screen[object]:
        """The screen with the header, the tabs and the widget pages (under any screen page)."""
        return self.screen_stack[0]

    @property
    def current_page(self) -> str:
        return self.shell.query_one(ContentSwitcher).current or ""

    def focus_page(self) -> None:
        page = self.shell.query_one(ContentSwitcher).visible_content
        focus = getattr(page, "focus_first", None)
        if focus is not None:
            focus()

    async def action_page(self, name: str) -> None:
        page = next(p for p in PAGES if p.name == name)
        if self._shown is not None and self._shown == (name, self.screen):
            return  # its screen is up already
        while len(self.screen_stack) > 1:  # another page's key leaves a screen page
            await self.pop_screen()
        if page.screen:
            try:
                screen: Screen[object] = page.load()(self)  # type: ignore[operator]
            except PageUnavailable as exc:
                self.notify(t(exc.key), severity="warning")
                return
            self._shown = (name, screen)
            await self.push_screen(screen)
            return
        self.shell.query_one(ContentSwitcher).current = name
        self.shell.query_one(Tabs).show(name)
        self.focus_page()

    async def open_case(self, support_code: str) -> None:
        """Show a case on the Cases page (the board's Enter)."""
        from kiosk.console.cases import CasesPage

        await self.action_page("cases")
        await self.shell.query_one(CasesPage).look_up(support_code)

    def action_language(self) -> None:
        from kiosk.i18n import get_language

        names = list(LANGUAGES)
        set_language(names[(names.index(get_language()) + 1) % len(names)])
        self.shell.query_one("#title", Static).update(self.header_text())
        self.shell.query_one(Tabs).show(self.current_page)
        for page in self.shell.query_one(ContentSwitcher).children:
            relabel = getattr(page, "relabel", None)
            if relabel is not None:
                relabel()

    async def on_unmount(self) -> None:
        await self.source.close()
