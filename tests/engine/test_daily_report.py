"""The console's reports: per-day series counted by the database, failure reasons, terminals,
registration coverage."""

from __future__ import annotations

import pytest

from kiosk.backend import Blocked, WrongCode
from kiosk.engine.clock import FrozenClock
from kiosk.engine.daily import Daily, console_report
from kiosk.engine.engine import Engine
from tests.support.engine import TERMINAL, email_gate, last_code


def three_days_of_activity(engine: Engine, clock: FrozenClock) -> None:
    alice = engine.session(TERMINAL).start("reset", "alice")
    email_gate(engine, alice)
    engine.session(TERMINAL).set_password(alice.flow_id, "Correct horse kiosk staple 77")
    clock.advance(days=1)
    dave = engine.session(TERMINAL).start("unlock", "dave")
    email_gate(engine, dave)
    engine.session(TERMINAL).unlock(dave.flow_id)
    clock.advance(days=1)
    desk = engine.session("console:desk-2")
    again = desk.start("reset", "alice")
    sent = desk.send_code(again.flow_id, "email", "email")
    code = int(last_code(engine, "alice@contoso.org"))
    with pytest.raises(Blocked):
        for n in range(1, 6):
            with pytest.raises(WrongCode):
                desk.verify_code(again.flow_id, sent.challenge.id,  # type: ignore[union-attr]
                                 f"{(code + n) % 10**8:08d}")


def test_each_day_counts_its_own_events(engine: Engine, clock: FrozenClock) -> None:
    three_days_of_activity(engine, clock)
    report = console_report(engine, 4)
    assert report.days == ["2026-01-04", "2026-01-05", "2026-01-06", "2026-01-07"]
    assert report.series == {"resets": [0, 1, 0, 0], "unlocks": [0, 0, 1, 0],
                             "registrations": [0, 0, 0, 0], "blocks": [0, 0, 0, 1]}
    reasons = dict(report.failures)
    assert sum(reasons.values()) >= 5 and any("blocked" in r for r in reasons)
    terminals = {t.terminal: t for t in report.terminals}
    assert set(terminals) == {TERMINAL, "console:desk-2"}
    assert terminals["console:desk-2"].failed >= 5 and terminals[TERMINAL].failed == 0
    assert (report.eligible, report.registered, report.missing) == (5, 4, ["erin"])
    assert report.coverage == 80.0


def test_a_report_survives_json(engine: Engine, clock: FrozenClock) -> None:
    three_days_of_activity(engine, clock)
    report = console_report(engine, 7)
    assert Daily.from_json(report.to_json()) == report
    assert len(report.days) == 7 and report.days[-1] == "2026-01-07"
