"""Cases and the live board in the engine; the helpdesk's races (two agents issuing at once,
one pass tried at many kiosks at once)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.backend import Blocked, InvalidInput, KioskError, NotAvailable
from kiosk.desk import PassRequest
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from kiosk.engine.helpdesk import Helpdesk
from kiosk.engine.schema import access_passes, audit_events
from tests.support.engine import TERMINAL, make_engine


@pytest.fixture
def engine(tmp_path: Path, clock: FrozenClock) -> Engine:
    return make_engine(tmp_path, clock, passes={"enabled": True})


def block(engine: Engine, name: str = "alice", terminal: str = TERMINAL) -> str:
    state = engine.session(terminal).start("reset", name)
    for _ in range(50):
        try:
            engine.session(terminal).questions(state.flow_id)
            engine.session(terminal).answer(state.flow_id, ["no", "no", "no"])
        except Blocked:
            return state.support_code
        except KioskError:
            continue
    raise AssertionError("no block")


def test_a_case_has_the_timeline_the_block_and_records_the_desk_visit(engine: Engine) -> None:
    desk = Helpdesk(engine)
    code = block(engine)
    case = desk.case(code, "ann")
    assert case.username == "alice" and case.status == "blocked"
    assert [b.reason for b in case.blocks] == ["verify_failures"]
    assert [e.detail for e in case.timeline].count("wrong answers") == 5
    assert not any(e.detail == "no" for e in case.timeline)
    # a start refused by the block names the blocking visit's code; it left no flow, only
    # events under a code of its own, which the user's list shows as a visit "refused"
    with pytest.raises(Blocked) as refused:
        engine.session(TERMINAL).start("reset", "alice")
    assert refused.value.support_code == code
    listed = {c.support_code: c.status for c in desk.cases_of("alice")}
    assert listed.pop(code) == "blocked" and list(listed.values()) == ["refused"]
    later = desk.case(next(iter(listed)), "ann")
    assert later.status == "refused" and later.blocks and later.username == "alice"
    with engine.db.connect() as conn:
        opened = conn.execute(select(audit_events).where(
            audit_events.c.result == "contacted_admin",
            audit_events.c.detail == "case opened at the helpdesk by ann")).all()
    assert {row.support_code for row in opened} == {code, later.support_code}
    assert opened[0].terminal == "desk:ann"


def test_lifting_needs_a_reason_and_is_audited(engine: Engine) -> None:
    desk = Helpdesk(engine)
    code = block(engine)
    with pytest.raises(InvalidInput):
        desk.lift_case(code, "ann", "  ")
    with pytest.raises(InvalidInput):
        desk.lift_case(code, "", "ok")
    assert desk.lift_case(code, "ann", "ID checked") == 1
    with pytest.raises(NotAvailable):
        desk.lift_case(code, "ann", "again")
    engine.session(TERMINAL).start("reset", "alice")  # not blocked any more
    block(engine, "alice", "console:other")
    assert desk.lift_user(" ALICE", "ann", "called back") == 1
    with pytest.raises(NotAvailable):
        desk.lift_user("alice", "ann", "again")


def test_the_board_names_nobody_and_counts_each_terminal(engine: Engine) -> None:
    desk = Helpdesk(engine)
    block(engine, "alice", "console:kiosk-1")
    live = engine.session("ssh:192.0.2.7").start("reset", "bob")
    board = desk.board()
    assert [(s.terminal, s.step) for s in board.sessions] == [("ssh:192.0.2.7",
                                                                "choose_method")]
    assert "bob" not in board.sessions[0].model_dump_json()
    assert board.sessions[0].support_code == live.support_code
    loads = {t.terminal: t for t in board.terminals}
    assert loads["console:kiosk-1"].verify_failures == 5
    assert loads["console:kiosk-1"].closeness == pytest.approx(5 / 30)
    assert loads["ssh:192.0.2.7"].closeness == 0
    assert [b.username for b in board.blocks] == ["alice"]


def test_twenty_agents_issuing_at_once_leave_one_active_pass(engine: Engine) -> None:
    desk = Helpdesk(engine)

    def issue(n: int) -> str:
        try:
            return desk.issue_pass(f"agent{n}", PassRequest(username="erin")).access_pass
        except InvalidInput:
            return ""

    with ThreadPoolExecutor(max_workers=20) as pool:
        issued = [p for p in pool.map(issue, range(20)) if p]
    assert len(issued) == 1
    with engine.db.connect() as conn:
        assert len(conn.execute(select(access_passes)).all()) == 1


def test_one_pass_tried_at_many_kiosks_at_once_is_used_once(engine: Engine) -> None:
    text = Helpdesk(engine).issue_pass("ann", PassRequest(username="alice")).access_pass
    terminals = [f"console:k{n}" for n in range(10)]
    flows = [engine.session(t).start("reset", "alice").flow_id for t in terminals]

    def use(pair: tuple[str, str]) -> str:
        try:
            return engine.session(pair[1]).verify_pass(pair[0], text).step.value
        except KioskError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(use, zip(flows, terminals, strict=True)))
    assert results.count("new_password") == 1, results


def test_issuing_tells_the_users_contacts_without_the_pass(engine: Engine) -> None:
    text = Helpdesk(engine).issue_pass("ann", PassRequest(username="alice")).access_pass
    told = [m for m in engine.outbox_messages(10) if "temporary access pass" in m.subject]
    assert {m.recipient for m in told} == {"alice@contoso.org", "+14255550142"}
    assert all(text not in m.body for m in told)
