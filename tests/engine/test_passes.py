"""Temporary access passes in the engine: Entra's limits, one active per user, hash-only
storage, expiry, terminal binding, the throttle, and the enumeration-safe answer shape."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.backend import Blocked, CodeExpired, InvalidInput, NotAvailable, Step, WrongCode
from kiosk.desk import PassRequest
from kiosk.engine.clock import FrozenClock
from kiosk.engine.engine import Engine
from kiosk.engine.helpdesk import Helpdesk
from kiosk.engine.schema import access_passes, audit_events
from tests.support.engine import TERMINAL, email_gate, make_engine

AGENT = "agent smith"


@pytest.fixture
def engine(tmp_path: Path, clock: FrozenClock) -> Engine:
    """The demo with passes on (`kiosk demo` turns them on; the demo policy does not)."""
    return make_engine(tmp_path, clock, passes={"enabled": True})


@pytest.fixture
def desk(engine: Engine) -> Helpdesk:
    return Helpdesk(engine)


def issue(desk: Helpdesk, username: str = "erin", **fields: object) -> str:
    return desk.issue_pass(AGENT, PassRequest(username=username, **fields)).access_pass


def test_erin_with_nothing_registered_resets_with_a_pass_then_registers(
        engine: Engine, desk: Helpdesk) -> None:
    text = issue(desk)
    state = engine.session(TERMINAL).start("reset", "erin")
    assert "pass" in [m.kind for m in state.methods]
    state = engine.session(TERMINAL).verify_pass(state.flow_id, text.lower())  # typed in lower case
    assert state.step == Step.NEW_PASSWORD
    state = engine.session(TERMINAL).set_password(state.flow_id, "Erin-new-pass-after-desk-9")
    assert state.step == Step.DONE and state.result == "reset"
    state = engine.session(TERMINAL).start("register", "erin")
    state = engine.session(TERMINAL).sign_in(state.flow_id, "Erin-new-pass-after-desk-9")
    assert state.step == Step.REGISTER
    assert desk.pass_status("erin").state == "used"  # type: ignore[union-attr]


def test_limits_of_a_pass(desk: Helpdesk) -> None:
    for bad in ({"length": 7}, {"length": 49}, {"lifetime_minutes": 9},
                {"lifetime_minutes": 43201}):
        with pytest.raises(ValueError):
            PassRequest(username="erin", **bad)  # type: ignore[arg-type]
    issued = desk.issue_pass(AGENT, PassRequest(username="alice", length=8,
                                                lifetime_minutes=10))
    assert len(issued.access_pass) == 8 and issued.info.one_time
    assert (issued.info.expires_at - issued.info.created_at) == timedelta(minutes=10)
    default = desk.issue_pass(AGENT, PassRequest(username="erin"))
    assert default.info.expires_at - default.info.created_at == timedelta(hours=1)
    with pytest.raises(InvalidInput):  # frank is not in scope
        issue(desk, "frank")
    with pytest.raises(NotAvailable):
        issue(desk, "nobody-here")


def test_at_most_one_active_pass_per_user_and_revoking(desk: Helpdesk) -> None:
    issue(desk)
    with pytest.raises(InvalidInput, match="active pass"):
        issue(desk)
    assert desk.revoke_pass("erin", AGENT, "issued by mistake").state == "revoked"
    issue(desk)


def test_only_a_keyed_hash_is_stored(engine: Engine, desk: Helpdesk) -> None:
    text = issue(desk)
    with engine.db.connect() as conn:
        row = conn.execute(select(access_passes)).one()
        dump = repr([tuple(r) for r in conn.execute(select(audit_events)).all()])
    assert text not in repr(tuple(row)) and text not in dump
    assert len(row.pass_hash) == 64  # HMAC-SHA256 under the server key, not in the database


def test_a_one_time_pass_works_once_and_an_expired_one_not_at_all(
        engine: Engine, desk: Helpdesk, clock: FrozenClock) -> None:
    text = issue(desk, "alice")
    state = engine.session(TERMINAL).start("reset", "alice")
    engine.session(TERMINAL).verify_pass(state.flow_id, text)
    state = engine.session(TERMINAL).start("reset", "alice")
    with pytest.raises(WrongCode):
        engine.session(TERMINAL).verify_pass(state.flow_id, text)
    text = issue(desk, "bob", lifetime_minutes=10)
    clock.advance(minutes=11)
    state = engine.session(TERMINAL).start("reset", "bob")
    with pytest.raises(WrongCode):
        engine.session(TERMINAL).verify_pass(state.flow_id, text)
    desk.board()  # the next look notes the expiry, once
    desk.board()
    with engine.db.connect() as conn:
        expired = conn.execute(select(audit_events).where(
            audit_events.c.detail == "temporary access pass expired unused")).all()
    assert len(expired) == 1 and expired[0].username == "bob"


def test_a_pass_bound_to_a_terminal_fails_elsewhere(engine: Engine, desk: Helpdesk) -> None:
    text = issue(desk, terminal="console:desk-kiosk")
    state = engine.session(TERMINAL).start("reset", "erin")
    with pytest.raises(WrongCode):
        engine.session(TERMINAL).verify_pass(state.flow_id, text)
    there = engine.session("console:desk-kiosk")
    state = there.start("reset", "erin")
    assert there.verify_pass(state.flow_id, text).step == Step.NEW_PASSWORD


def test_wrong_passes_count_like_wrong_codes_and_block(engine: Engine) -> None:
    state = engine.session(TERMINAL).start("reset", "erin")
    limit = engine.policy.throttle.verify_failures
    for _ in range(limit - 1):
        with pytest.raises(WrongCode):
            engine.session(TERMINAL).verify_pass(state.flow_id, "ABCDEFGHJK")
    with pytest.raises(Blocked):
        engine.session(TERMINAL).verify_pass(state.flow_id, "ABCDEFGHJK")


def test_a_pass_answers_alike_with_and_without_one(engine: Engine, desk: Helpdesk) -> None:
    """A user with a pass, one without, a decoy and a name nobody has: the same offer, the same
    error shape for a wrong pass."""
    issue(desk, "alice")
    answers = {}
    for name in ("alice", "bob", "erin", "frank", "nobody-here"):
        state = engine.session(TERMINAL).start("reset", name)
        assert next(m for m in state.methods if m.kind == "pass").model_dump() == {
            "kind": "pass", "masked": "", "channels": [], "passed": False}
        with pytest.raises(WrongCode) as caught:
            engine.session(TERMINAL).verify_pass(state.flow_id, "WRONGPASS22")
        problem = caught.value.to_problem()
        answers[name] = (problem["code"], problem["status"], tuple(sorted(problem["params"])),
                         problem["params"]["remaining"])
    assert len(set(answers.values())) == 1, answers


def test_an_administrators_pass_is_one_proof_or_two_with_a_second_agent(
        tmp_path: Path) -> None:
    engine = make_engine(tmp_path, passes={"enabled": True, "may_count_as_two": True})
    desk = Helpdesk(engine)
    with pytest.raises(InvalidInput, match="second agent"):
        issue(desk, "carol", count_as_two=True)
    with pytest.raises(InvalidInput, match="second agent"):
        issue(desk, "carol", count_as_two=True, approved_by=AGENT.upper())
    text = issue(desk, "carol")  # one proof: carol still needs one of her methods
    state = engine.session(TERMINAL).start("reset", "carol")
    state = engine.session(TERMINAL).verify_pass(state.flow_id, text)
    assert state.step == Step.CHOOSE_METHOD and state.gates_required == 2
    assert email_gate(engine, state).step == Step.NEW_PASSWORD
    desk.revoke_pass("carol", AGENT, "done") if desk.pass_status("carol").state == "active" \
        else None  # type: ignore[union-attr]
    text = issue(desk, "carol", count_as_two=True, approved_by="agent jones")
    state = engine.session(TERMINAL).start("reset", "carol")
    assert engine.session(TERMINAL).verify_pass(state.flow_id, text).step == Step.NEW_PASSWORD


def test_passes_are_off_unless_the_policy_allows_them(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, passes={"enabled": False})
    state = engine.session(TERMINAL).start("reset", "alice")
    assert "pass" not in [m.kind for m in state.methods]
    with pytest.raises(InvalidInput):
        engine.session(TERMINAL).verify_pass(state.flow_id, "ABCDEFGHJK")
    with pytest.raises(NotAvailable):
        issue(Helpdesk(engine))


def test_a_pass_used_twice_at_once_is_claimed_once(engine: Engine, desk: Helpdesk) -> None:
    text = issue(desk, "alice")
    first = engine.session(TERMINAL).start("reset", "alice")
    second = engine.session("console:other").start("reset", "alice")
    engine.session(TERMINAL).verify_pass(first.flow_id, text)
    with pytest.raises((WrongCode, CodeExpired)):
        engine.session("console:other").verify_pass(second.flow_id, text)


def test_the_user_is_told_of_a_pass_in_their_language_and_never_its_text(
        engine: Engine, desk: Helpdesk) -> None:
    def told() -> list[dict[str, object]]:
        return [m for m in engine.outbox.latest(50) if m["recipient"] == "alice@contoso.org"]

    text = issue(desk, "alice")
    (issued,) = told()
    assert str(issued["subject"]).endswith(": a temporary access pass was issued")
    state = engine.session(TERMINAL).start("reset", "alice", "de")  # a visitor in German
    engine.session(TERMINAL).verify_pass(state.flow_id, text)
    used = told()[0]
    assert "Zugangspass wurde verwendet" in str(used["subject"])
    assert TERMINAL in str(used["body"])
    for message in told():
        assert text not in str(message["body"]) and text not in str(message["subject"])
