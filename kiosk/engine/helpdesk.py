"""Helpdesk: the engine's side of the helpdesk console, one line per call (the work is in
kiosk/engine/cases.py, passes.py and board.py). Served in-process by
kiosk.console.source.EmbeddedDesk and over HTTP by backend_stub/desk.py.

Every call that changes something names the agent; it goes into the audit log.
"""

from __future__ import annotations

from sqlalchemy import Connection

from kiosk.desk import Board, Case, CaseSummary, IssuedPass, PassInfo, PassRequest
from kiosk.engine import board
from kiosk.engine.cases import Cases
from kiosk.engine.delivery_base import Message
from kiosk.engine.engine import Engine


class Helpdesk:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.passes = engine.passes
        self.cases = Cases(engine.core, engine.passes)

    def case(self, support_code: object, agent: object) -> Case:
        return self.cases.by_code(support_code, agent)

    def cases_of(self, username: object) -> list[CaseSummary]:
        return self.cases.by_user(username)

    def lift_case(self, support_code: object, agent: object, reason: object) -> int:
        return self.cases.lift(support_code, agent, reason)

    def lift_user(self, username: object, agent: object, reason: object) -> int:
        return self.cases.lift_user(username, agent, reason)

    def issue_pass(self, agent: object, request: PassRequest) -> IssuedPass:
        return self.passes.issue(agent, request)

    def revoke_pass(self, username: object, agent: object, reason: object) -> PassInfo:
        return self.passes.revoke(agent, username, reason)

    def pass_status(self, username: object) -> PassInfo | None:
        return self.passes.status(username)

    def board(self) -> Board:
        """A snapshot; passes that expired since the last one are audited first."""
        core = self.engine.core

        def work(conn: Connection, notices: list[Message]) -> Board:
            self.passes.note_expired(conn, notices)
            return board.snapshot(core.throttle, conn, core.clock.now())

        return core.tx(work)
