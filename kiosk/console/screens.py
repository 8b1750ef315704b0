"""The console's pages that are screens of their own, each made from the console it opens in
(kiosk/console/app.py's PAGES names these functions): the policy pages over the policy file
the console was started with, explain and reports over its data (the same database or API).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual.screen import Screen

if TYPE_CHECKING:
    from kiosk.console.reports.source import ConsoleData


class ConsoleApp(Protocol):
    """What a page needs of the console (kiosk.console.app.ConsoleApp), named here so that
    this module does not import the app back."""

    policy_file: Path | None
    data: ConsoleData | None
    export_dir: Path


class PageUnavailable(Exception):
    """This console cannot show the page; `key` is the catalogue key of the reason."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def policy(console: ConsoleApp) -> Screen[None]:
    from kiosk.console.policy.pages import PolicyScreen

    if console.policy_file is None:
        raise PageUnavailable("console.page.no_policy_file")
    return PolicyScreen(console.policy_file)


def _data(console: ConsoleApp) -> ConsoleData:
    if console.data is None:
        raise PageUnavailable("console.page.no_data")
    return console.data


def explain(console: ConsoleApp) -> Screen[None]:
    from kiosk.console.policy.explain import ExplainScreen

    return ExplainScreen(_data(console))


def reports(console: ConsoleApp) -> Screen[None]:
    from kiosk.console.reports.screen import ReportsScreen

    return ReportsScreen(_data(console), export_dir=console.export_dir)
