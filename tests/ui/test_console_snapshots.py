"""Screenshots of every console page of the policy and reports modules at 80x24.

Update with `pytest tests/ui/test_console_snapshots.py --snapshot-update` after checking them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TabbedContent

from kiosk.console.policy.explain import ExplainScreen
from kiosk.console.policy.pages import PAGES, DiffScreen, PolicyScreen
from kiosk.console.reports.screen import ReportsScreen
from kiosk.console.reports.source import EmbeddedData
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from tests.engine.test_daily_report import three_days_of_activity

from .console_pages import POLICY_TEXT, PageApp, until

SIZE = (80, 24)
Before = Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture
def policy_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """kiosk.toml in the working directory: the page's title shows the same path every run."""
    monkeypatch.chdir(tmp_path)
    Path("kiosk.toml").write_text(POLICY_TEXT, encoding="utf-8")
    return Path("kiosk.toml")


def on_page(page: str) -> Before:
    async def before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: isinstance(pilot.app.screen, PolicyScreen))
        pilot.app.screen.query_one(TabbedContent).active = page
        await until(pilot, lambda: pilot.app.screen.query_one(TabbedContent).active == page)
        pilot.app.screen.query_one("Tabs").focus()

    return before


async def methods_required(pilot: Pilot[Any], value: str) -> None:
    await on_page("methods")(pilot)
    pilot.app.screen.query_one("#f-sspr-methods_required", Input).focus()
    await pilot.press("end", "backspace", value)
    await until(pilot, lambda: pilot.app.screen.query_one(
        "#f-sspr-methods_required", Input).value == value)


@pytest.mark.parametrize("page", [p for p, _, _ in PAGES] + ["directory"])
def test_policy_page(page: str, snap_compare, policy_here: Path) -> None:  # type: ignore[no-untyped-def]
    app = PageApp(lambda: PolicyScreen(policy_here))
    assert snap_compare(app, terminal_size=SIZE, run_before=on_page(page))


def test_policy_page_with_an_invalid_edit(snap_compare, policy_here: Path) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot[Any]) -> None:
        await methods_required(pilot, "3")

    app = PageApp(lambda: PolicyScreen(policy_here))
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_policy_diff_before_saving(snap_compare, policy_here: Path) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot[Any]) -> None:
        await methods_required(pilot, "2")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(pilot.app.screen, DiffScreen))

    app = PageApp(lambda: PolicyScreen(policy_here))
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_explain_page(snap_compare, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: "rules that apply" in str(
            pilot.app.screen.query_one("#explanation").render()))

    app = PageApp(lambda: ExplainScreen(EmbeddedData(engine), "erin"))
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_reports_page(snap_compare, engine: Engine, clock: FrozenClock,  # type: ignore[no-untyped-def]
                      tmp_path: Path) -> None:
    three_days_of_activity(engine, clock)

    async def before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: "Activity over" in str(
            pilot.app.screen.query_one("#reports-title").render()))

    app = PageApp(lambda: ReportsScreen(EmbeddedData(engine), days=14, export_dir=tmp_path))
    assert snap_compare(app, terminal_size=SIZE, run_before=before)
