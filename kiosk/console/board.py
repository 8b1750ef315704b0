"""The live board: every visit now (support code, terminal, step, idle time: no names until
the agent opens the case with Enter), each terminal's throttle counters and how close it is
to a block, the users blocked now (`u` lifts the selected one, with a reason).

One snapshot a second at most (`ConsoleApp.refresh_seconds`), only while the board is shown,
and never a second request while one is under way.
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.markup import escape
from textual.widgets import DataTable, Static

from kiosk.backend import KioskError
from kiosk.console.dialogs import ask_reason, stamp
from kiosk.desk import Board, TerminalLoad
from kiosk.i18n import t

BAR = 10


def closeness_bar(load: TerminalLoad) -> str:
    filled = min(BAR, round(load.closeness * BAR))
    return "#" * filled + "." * (BAR - filled) + f" {round(load.closeness * 100):3d}%"


def idle(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


class BoardPage(Vertical):
    BINDINGS: ClassVar = [Binding("u", "lift_user", "Lift user block"),
                          Binding("f5", "refresh_board", "Refresh")]

    def __init__(self) -> None:
        super().__init__()
        self.board: Board | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Static("", id="board-head", classes="lead")
        yield Static(escape(t("console.board.sessions")), classes="label", id="board-l1")
        yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
        yield Static(escape(t("console.board.terminals")), classes="label", id="board-l2")
        yield DataTable(id="terminals", cursor_type="row", zebra_stripes=True)
        yield Static(escape(t("console.board.blocks")), classes="label", id="board-l3")
        yield DataTable(id="blocks", cursor_type="row", zebra_stripes=True)
        yield Static("", id="board-error", classes="error")

    def on_mount(self) -> None:
        self.columns()
        seconds = getattr(self.app, "refresh_seconds", 1.0)
        if seconds:
            self.set_interval(max(1.0, seconds), self.tick)

    def columns(self) -> None:
        for table_id, cols in (("sessions", ("code", "terminal", "purpose", "step", "idle")),
                               ("terminals", ("terminal", "verify", "flows", "sends", "wait",
                                              "blocked_until", "closeness")),
                               ("blocks", ("user", "reason", "code", "until"))):
            table = self.query_one(f"#{table_id}", DataTable)
            table.clear(columns=True)
            table.add_columns(*(t(f"console.col.{c}") for c in cols))

    def relabel(self) -> None:
        for n, key in ((1, "sessions"), (2, "terminals"), (3, "blocks")):
            self.query_one(f"#board-l{n}", Static).update(escape(t(f"console.board.{key}")))
        self.columns()
        if self.board is not None:
            self.show(self.board)

    def focus_first(self) -> None:
        self.query_one("#sessions", DataTable).focus()
        self.run_worker(self.action_refresh_board())

    async def tick(self) -> None:
        if self.display and self.app.query_one("#pages").current == "board":  # type: ignore[attr-defined]
            await self.action_refresh_board()

    async def action_refresh_board(self) -> None:
        if self.busy:
            return
        self.busy = True
        try:
            board = await self.app.source.board()  # type: ignore[attr-defined]
        except KioskError as err:
            self.query_one("#board-error", Static).update(escape(err.message))
            return
        finally:
            self.busy = False
        self.query_one("#board-error", Static).update("")
        self.show(board)

    @staticmethod
    def fill(table: DataTable[str], rows: list[tuple[str, ...]], keys: list[str]) -> None:
        """Replace the rows, keeping the cursor on the same key where it still is."""
        row = table.cursor_row
        current = None
        if table.row_count and 0 <= row < table.row_count:
            current = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        table.clear()
        for cells, key in zip(rows, keys, strict=True):
            table.add_row(*cells, key=key)
        if current in keys:
            table.move_cursor(row=keys.index(current))

    def show(self, board: Board) -> None:
        self.board = board
        self.query_one("#board-head", Static).update(escape(t(
            "console.board.head", at=stamp(board.at), n=len(board.sessions),
            b=len(board.blocks))))
        self.fill(self.query_one("#sessions", DataTable),
                  [(s.support_code, s.terminal, s.purpose, s.step, idle(s.idle_seconds))
                   for s in board.sessions], [s.support_code for s in board.sessions])
        self.fill(self.query_one("#terminals", DataTable),
                  [(x.terminal, f"{x.verify_failures}/{x.verify_limit}",
                    f"{x.failed_flows}/{x.failed_flows_limit}", f"{x.sends}/{x.sends_limit}",
                    f"{x.wait_seconds}s" if x.wait_seconds else "",
                    stamp(x.blocked_until), closeness_bar(x)) for x in board.terminals],
                  [x.terminal for x in board.terminals])
        self.fill(self.query_one("#blocks", DataTable),
                  [(b.username, b.reason, b.support_code, stamp(b.until))
                   for b in board.blocks], [b.username for b in board.blocks])

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id == "sessions" and event.row_key.value:
            await self.app.open_case(str(event.row_key.value))  # type: ignore[attr-defined]

    def action_lift_user(self) -> None:
        table = self.query_one("#blocks", DataTable)
        if not table.row_count:
            self.query_one("#board-error", Static).update(escape(t("console.board.no_block")))
            return
        user = str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value)
        ask_reason(self, t("console.reason.lift_user", user=user), partial(self._lift, user))

    async def _lift(self, user: str, reason: str) -> None:
        try:
            await self.app.source.lift_user(user, reason)  # type: ignore[attr-defined]
        except KioskError as err:
            self.query_one("#board-error", Static).update(escape(err.message))
            return
        await self.action_refresh_board()
