"""Reports people look at: resets, unlocks, registrations and blocks per day (sparklines),
registration coverage, top failure reasons, each terminal's activity; the audit log of the
period exported as CSV (like `kiosk admin audit export`).

    ReportsScreen(EmbeddedData(engine), export_dir=Path("."))
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Sparkline, Static

from kiosk.console.reports.source import ConsoleData
from kiosk.engine.daily import SERIES, Daily
from kiosk.glyphs import no, ok
from kiosk.i18n import t

PERIODS = {"1": 7, "2": 14, "3": 30}


class ReportsScreen(Screen[None]):
    CSS_PATH = Path(__file__).with_name("reports.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, f"period({days})", t("console.reports.days", days=days))
          for key, days in PERIODS.items()),
        Binding("x", "export", t("console.reports.export")),
        Binding("r", "refresh", t("console.reports.refresh")),
        Binding("escape", "app.pop_screen", t("console.policy.back")),
    ]

    def __init__(self, data: ConsoleData, *, days: int = 14, export_dir: Path = Path(".")
                 ) -> None:
        super().__init__()
        self.data = data
        self.days = days
        self.export_dir = export_dir

    def compose(self) -> ComposeResult:
        yield Label(id="reports-title")
        with VerticalScroll():
            for name in SERIES:
                with Horizontal(classes="series"):
                    yield Label(t(f"console.reports.series.{name}"), classes="series-name")
                    yield Sparkline([], id=f"spark-{name}", summary_function=max)
                    yield Label(id=f"total-{name}", classes="series-total")
            yield Static(id="coverage")
            with Horizontal(id="tables"):
                with Vertical():
                    yield Label(t("console.reports.failures"), classes="heading")
                    yield Static(id="failures")
                with Vertical():
                    yield Label(t("console.reports.terminals"), classes="heading")
                    yield Static(id="terminals")
        yield Footer()

    async def on_mount(self) -> None:
        await self.action_refresh()

    async def action_period(self, days: int) -> None:
        self.days = days
        await self.action_refresh()

    async def action_refresh(self) -> None:
        title = self.query_one("#reports-title", Label)
        try:
            report = await asyncio.to_thread(self.data.report, self.days)
        except Exception as exc:  # the API is down, the token refused: one line, no trace
            title.update(t("console.reports.failed", error=type(exc).__name__))
            return
        self.show(report)

    def show(self, report: Daily) -> None:
        self.query_one("#reports-title", Label).update(t(
            "console.reports.title", days=len(report.days), first=report.days[0],
            last=report.days[-1]))
        for name, counts in report.series.items():
            self.query_one(f"#spark-{name}", Sparkline).data = counts
            self.query_one(f"#total-{name}", Label).update(
                t("console.reports.total", total=sum(counts), peak=max(counts, default=0)))
        coverage = Text(t("console.reports.coverage_none") if report.coverage is None else
                        t("console.reports.coverage", registered=report.registered,
                          eligible=report.eligible, percent=f"{report.coverage:.1f}"))
        if report.missing:
            coverage.append("\n" + t("console.reports.missing",
                                     names=", ".join(report.missing[:20])), style="yellow")
        self.query_one("#coverage", Static).update(coverage)
        failures = "\n".join(f"{n:>5}  {reason}" for reason, n in report.failures)
        self.query_one("#failures", Static).update(failures or t("console.reports.none"))
        terminals = "\n".join(
            f"{a.terminal[:18]:<18} {a.events:>5} {a.succeeded:>4}{ok()} {a.failed:>4}{no()}"
            for a in report.terminals)
        self.query_one("#terminals", Static).update(terminals or t("console.reports.none"))

    async def action_export(self) -> None:
        path = self.export_dir / f"audit-last-{self.days}-days.csv"
        try:
            await asyncio.to_thread(self.data.export_csv, self.days, path)
        except Exception as exc:
            self.notify(t("console.reports.export_failed", error=type(exc).__name__),
                        severity="error")
            return
        self.notify(t("console.reports.exported", path=str(path)))
