"""The console's reports page, driven with Pilot in a minimal App."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Label, Sparkline, Static

from kiosk.console.reports.screen import ReportsScreen
from kiosk.console.reports.source import EmbeddedData
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from tests.engine.test_daily_report import three_days_of_activity

from .console_pages import PageApp, until

SIZE = (80, 24)


async def test_the_days_show_as_sparklines_and_the_period_exports(
        engine: Engine, clock: FrozenClock, tmp_path: Path) -> None:
    three_days_of_activity(engine, clock)
    app = PageApp(lambda: ReportsScreen(EmbeddedData(engine), days=7, export_dir=tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ReportsScreen))
        spark = lambda name: list(app.screen.query_one(f"#spark-{name}", Sparkline).data or [])  # noqa: E731
        await until(pilot, lambda: spark("resets") == [0, 0, 0, 0, 1, 0, 0])
        assert spark("unlocks") == [0, 0, 0, 0, 0, 1, 0]
        assert spark("blocks") == [0, 0, 0, 0, 0, 0, 1]
        title = lambda: str(app.screen.query_one("#reports-title", Label).render())  # noqa: E731
        assert "Activity over 7 days (2026-01-01 to 2026-01-07, UTC)" in title()
        coverage = str(app.screen.query_one("#coverage", Static).render())
        assert "4 of 5 eligible users (80.0%)" in coverage and "erin" in coverage
        terminals = str(app.screen.query_one("#terminals", Static).render())
        assert "console:desk-2" in terminals

        await pilot.press("2")  # 14 days
        await until(pilot, lambda: "Activity over 14 days" in title())
        assert len(spark("resets")) == 14
        await pilot.press("x")
        exported = tmp_path / "audit-last-14-days.csv"
        await until(pilot, exported.exists)
    assert exported.read_text(encoding="utf-8").startswith("time,activity,activity_label")


class DownData(EmbeddedData):
    def report(self, days: int):  # type: ignore[no-untyped-def]
        raise OSError("connection refused to 10.0.0.7 with token adm_secret")


async def test_a_source_that_fails_is_one_line_without_details(engine: Engine) -> None:
    app = PageApp(lambda: ReportsScreen(DownData(engine)))
    async with app.run_test(size=SIZE) as pilot:
        title = lambda: str(app.screen.query_one("#reports-title", Label).render())  # noqa: E731
        await until(pilot, lambda: isinstance(app.screen, ReportsScreen) and bool(title()))
        assert title() == "Could not load the report (OSError)."
