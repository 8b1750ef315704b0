"""Cases: a visit by its support code (or a user's visits by name): the timeline from the audit
log, what blocks it and until when, the user's pass; `l` lifts the block (with a reason)."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape
from textual.widgets import DataTable, Input, Static

from kiosk.backend import InvalidInput, KioskError
from kiosk.console.dialogs import ask_reason, stamp
from kiosk.desk import Case, CaseSummary, clean_support_code
from kiosk.i18n import t


def is_support_code(text: str) -> bool:
    try:
        clean_support_code(text)
    except InvalidInput:
        return False
    return True


class CasesPage(Vertical):
    BINDINGS: ClassVar = [Binding("l", "lift", "Lift block")]

    def __init__(self) -> None:
        super().__init__()
        self.case: Case | None = None
        self.listed: list[CaseSummary] = []

    def compose(self) -> ComposeResult:
        yield Static(escape(t("console.cases.lead")), classes="lead", id="cases-lead")
        yield Input(placeholder=t("console.cases.placeholder"), max_length=256, id="lookup")
        yield Static("", id="case-error", classes="error")
        yield Static("", id="case-head")
        yield Static("", id="case-blocks")
        table: DataTable[str] = DataTable(id="case-table", cursor_type="row", zebra_stripes=True)
        yield table

    @property
    def console(self):  # type: ignore[no-untyped-def]
        return self.app

    def focus_first(self) -> None:
        self.query_one("#lookup", Input).focus()

    def relabel(self) -> None:
        self.query_one("#cases-lead", Static).update(escape(t("console.cases.lead")))
        if self.case is not None:
            self.show_case(self.case)

    def say(self, text: str) -> None:
        self.query_one("#case-error", Static).update(escape(text))

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            await self.look_up(event.value.strip())

    async def look_up(self, text: str) -> None:
        self.say("")
        source = self.console.source
        try:
            if is_support_code(text):
                self.show_case(await source.open_case(text))
            else:
                self.show_list(await source.cases_of(text))
        except KioskError as err:
            self.say(err.message)

    def show_list(self, cases: list[CaseSummary]) -> None:
        self.case, self.listed = None, cases
        self.query_one("#case-head", Static).update(
            escape(t("console.cases.list", n=len(cases))))
        self.query_one("#case-blocks", Static).update("")
        table = self.query_one("#case-table", DataTable)
        table.clear(columns=True)
        table.add_columns(*(t(f"console.col.{c}") for c in
                            ("code", "started", "purpose", "terminal", "status")))
        for c in cases:
            status = c.status + (" · " + t("console.blocked") if c.blocked else "")
            table.add_row(c.support_code, stamp(c.started_at), c.purpose, c.terminal, status,
                          key=c.support_code)
        table.focus()

    def show_case(self, case: Case) -> None:
        self.case, self.listed = case, []
        head = t("console.case.head", code=case.support_code, user=case.username,
                 purpose=case.purpose or "-", terminal=case.terminal,
                 status=case.status, step=case.step or "-", started=stamp(case.started_at))
        if case.access_pass is not None:
            p = case.access_pass
            head += "\n" + t("console.case.pass", state=p.state, until=stamp(p.expires_at),
                             agent=p.issued_by)
        self.query_one("#case-head", Static).update(escape(head))
        lines = [t("console.case.block", scope=b.scope, target=b.target, reason=b.reason,
                   until=stamp(b.until)) for b in case.blocks]
        self.query_one("#case-blocks", Static).update(
            escape("\n".join(lines) + "\n" + t("console.case.lift_hint")) if lines
            else escape(t("console.case.no_block")))
        table = self.query_one("#case-table", DataTable)
        table.clear(columns=True)
        table.add_columns(*(t(f"console.col.{c}") for c in
                            ("time", "activity", "result", "method", "terminal", "detail")))
        for e in case.timeline:
            table.add_row(stamp(e.at), e.activity, e.result, e.method, e.terminal, e.detail)
        table.focus()

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.listed and event.row_key.value:
            await self.look_up(str(event.row_key.value))

    def action_lift(self) -> None:
        if self.case is None or not self.case.blocks:
            self.say(t("console.case.nothing_to_lift"))
            return
        code = self.case.support_code
        ask_reason(self, t("console.reason.lift", code=code), partial(self._lift, code))

    async def _lift(self, code: str, reason: str) -> None:
        try:
            lifted = await self.console.source.lift_case(code, reason)
        except KioskError as err:
            self.say(err.message)
            return
        if self.case is not None:  # not opened again: that would record another visit
            self.show_case(self.case.model_copy(update={"blocks": []}))
        self.say(t("console.case.lifted", n=lifted))
