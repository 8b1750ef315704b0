"""`kiosk admin audit export` and `kiosk admin report` on a seeded audit log."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from kiosk.engine import registry
from kiosk.engine.admin import NewUser, csv_safe
from kiosk.engine.registry import StoredAnswer
from kiosk.engine.report import BadTime, parse_when
from kiosk.engine.schema import audit_events, blocks
from tests.support.admin_cli import Kiosk

T0 = datetime(2026, 1, 5, tzinfo=UTC)

# (time, activity, result, username): the period under test is 2026-01-05 .. 2026-01-06
EVENTS = [
    (T0 - timedelta(seconds=1), "reset", "succeeded", "alice"),  # just before: out
    (T0, "reset", "succeeded", "alice"),  # the first instant: in
    (T0 + timedelta(hours=1), "reset", "succeeded", "bob"),
    (T0 + timedelta(hours=2), "reset", "failed", "bob"),
    (T0 + timedelta(hours=3), "reset", "abandoned", "carol"),
    (T0 + timedelta(hours=4), "reset", "abandoned", "carol"),
    (T0 + timedelta(hours=5), "reset", "contacted_admin", "erin"),
    (T0 + timedelta(hours=6), "unlock", "succeeded", "dave"),
    (T0 + timedelta(hours=7), "change", "cancelled", "alice"),
    (T0 + timedelta(hours=8), "registered", "succeeded", "erin"),
    (T0 + timedelta(hours=9), "registered", "succeeded", "erin"),
    (T0 + timedelta(hours=10), "blocked", "blocked", "bob"),
    *[(T0 + timedelta(hours=11, minutes=i), "flow_progress", "succeeded", "alice")
      for i in range(5)],
    (T0 + timedelta(hours=12), "flow_progress", "failed", "bob"),
    (T0 + timedelta(days=1, hours=23, minutes=59, seconds=59), "reset", "succeeded", "dave"),
    (T0 + timedelta(days=2), "reset", "succeeded", "dave"),  # the end is exclusive: out
]
# a name, terminal, method and detail that a spreadsheet would run as formulas
INJECTION = dict(at=T0 + timedelta(hours=13), correlation_id="c-inject", support_code="INJ-ECT1",
                 activity="flow_progress", result="failed", terminal="@SUM(1+1)",
                 username="=cmd|' /C calc'!A0", method="-2+3", detail="+HYPERLINK(\"x\")")


def seed_audit(kiosk: Kiosk) -> None:
    engine = kiosk.engine()  # makes the database
    with engine.db.begin() as conn:
        for n, (at, activity, result, user) in enumerate(EVENTS):
            conn.execute(insert(audit_events).values(
                at=at, correlation_id=f"c-{n}", support_code=f"SUP-{n:04d}", activity=activity,
                result=result, terminal="console:lobby", username=user, method="email",
                detail=f"event {n}"))
        conn.execute(insert(audit_events).values(**INJECTION))


PERIOD = ("--since", "2026-01-05", "--until", "2026-01-06")  # a date alone includes the day


def test_export_csv_period_and_formula_guard(kiosk: Kiosk) -> None:
    seed_audit(kiosk)
    result = kiosk.ok("audit", "export", *PERIOD)
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["time", "activity", "activity_label", "result", "username", "terminal",
                       "method", "support_code", "correlation_id", "detail"]
    body = rows[1:]
    assert len(body) == 19  # 18 seeded events inside the period + the injection row
    assert body[0] == ["2026-01-05T00:00:00+00:00", "reset", "reset (self-service)",
                       "succeeded", "alice", "console:lobby", "email", "SUP-0001", "c-1",
                       "event 1"]
    assert body[-1][0] == "2026-01-06T23:59:59+00:00"
    assert [r[0] for r in body] == sorted(r[0] for r in body)
    injected = next(r for r in body if r[8] == "c-inject")
    assert injected[4] == "'=cmd|' /C calc'!A0"
    assert injected[5] == "'@SUM(1+1)"
    assert injected[6] == "'-2+3"
    assert injected[9] == "'+HYPERLINK(\"x\")"
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_export_json_output_file_and_user_filter(kiosk: Kiosk) -> None:
    seed_audit(kiosk)
    data = json.loads(kiosk.ok("audit", "export", *PERIOD, "--format", "json").stdout)
    assert len(data) == 19
    assert data[0]["activity_label"] == "reset (self-service)"
    injected = next(d for d in data if d["correlation_id"] == "c-inject")
    assert injected["username"] == "=cmd|' /C calc'!A0"  # JSON keeps values as stored

    out = kiosk.tmp_path / "export.json"
    result = kiosk.ok("audit", "export", *PERIOD, "--format", "json", "--output", str(out))
    assert result.stdout == "" and result.stderr == f"exported 19 events to {out}\n"
    assert json.loads(out.read_text(encoding="utf-8")) == data

    bob = json.loads(kiosk.ok("audit", "export", *PERIOD, "--format", "json",
                              "--user", "BOB").stdout)
    assert [(e["activity"], e["result"]) for e in bob] == [
        ("reset", "succeeded"), ("reset", "failed"), ("blocked", "blocked"),
        ("flow_progress", "failed")]
    empty = kiosk.ok("audit", "export", "--since", "2025-01-01", "--until", "2025-01-02",
                     "--format", "json").stdout
    assert json.loads(empty) == []

    result = kiosk.fails("audit", "export", *PERIOD, "--output",
                         str(kiosk.tmp_path / "no" / "dir.csv"))
    assert "cannot write (no directory" in result.stderr


def test_export_durations_and_usage_errors(kiosk: Kiosk) -> None:
    seed_audit(kiosk)
    engine = kiosk.engine()
    with engine.db.begin() as conn:
        conn.execute(insert(audit_events).values(
            at=datetime.now(UTC) - timedelta(hours=1), correlation_id="recent",
            support_code="RECE-NT01", activity="reset", result="succeeded",
            terminal="ssh:10.0.0.9", username="alice", method="", detail=""))
    recent = kiosk.ok("audit", "export", "--since", "2h").stdout.splitlines()
    assert len(recent) == 2 and "recent" in recent[1]
    assert len(kiosk.ok("audit", "export", "--since", "30m").stdout.splitlines()) == 1
    assert len(kiosk.ok("audit", "export", "--since", "1d", "--until", "30m").stdout
               .splitlines()) == 2

    assert "Missing option '--since'" in kiosk.fails("audit", "export", code=2).stderr
    bad = kiosk.fails("audit", "export", "--since", "last tuesday", code=2)
    assert "Invalid value for '--since'" in bad.stderr
    backwards = kiosk.fails("audit", "export", "--since", "2026-02-01", "--until",
                            "2026-01-01", code=2)
    assert "must be before --until" in backwards.stderr
    kiosk.fails("audit", "export", "--since", "7d", "--format", "xml", code=2)


def seed_directory(kiosk: Kiosk) -> None:
    """Scope: sspr ⊃ staff. Eligible: alice bob carol dave gwen hugo ivan (7); ready: alice,
    dave, gwen, ivan (4) → 57.1%."""
    kiosk.ok("groups", "add", "sspr")
    kiosk.ok("groups", "add", "staff")
    kiosk.ok("groups", "add-member", "sspr", "--group", "staff")
    admin = kiosk.admin()
    email = "{}@contoso.org".format
    people = [
        NewUser("alice", email=email("alice"), mobile="+14255550142", groups=("staff",)),
        NewUser("bob", groups=("staff",)),  # nothing registered
        NewUser("carol", email=email("carol"), is_admin=True),  # admins: always, but need 2
        NewUser("dave", email=email("dave"), mobile="+14255550144", is_admin=True),
        NewUser("erin", email=email("erin")),  # in no group: out of scope
        NewUser("frank", email=email("frank"), groups=("staff",)),  # disabled below
        NewUser("gwen", groups=("staff",)),  # 3 security answers
        NewUser("hugo", email=email("hugo"), is_admin=True),  # answers: not for admins
        NewUser("ivan", groups=("staff",)),  # authenticator only
    ]
    for person in people:
        admin.add_user(person)
    admin.set_enabled("frank", False)
    engine = admin.engine
    now = engine.clock.now()
    answers = [StoredAnswer(q, None, "not-a-real-hash") for q in ("pet", "city", "nickname")]
    with engine.db.begin() as conn:
        for name in ("gwen", "hugo"):
            user = engine.directory.find(conn, name)
            assert user is not None
            registry.set_answers(conn, user.id, answers)
        ivan = engine.directory.find(conn, "ivan")
        assert ivan is not None
        registry.set_authenticator(conn, engine.key, ivan.id, "JBSWY3DPEHPK3PXP", now)
        for subject, until, reason in [
            ("user:alice", now + timedelta(hours=2), "verify_failures"),
            ("user:alice", now + timedelta(hours=20), "too_many_codes"),  # the later one shows
            ("user:bob", now - timedelta(minutes=1), "failed_flows"),  # over already
            ("terminal:console:lobby", now + timedelta(hours=1), "terminal_failed_flows"),
            ("user:ghost", now + timedelta(hours=3), "failed_flows"),  # a name nobody has
        ]:
            conn.execute(insert(blocks).values(subject=subject, reason=reason,
                                               support_code=f"S-{reason[:6]}",
                                               created_at=now - timedelta(hours=1), until=until))


def test_report_figures(kiosk: Kiosk) -> None:
    seed_audit(kiosk)
    seed_directory(kiosk)
    data = json.loads(kiosk.ok("report", *PERIOD, "--format", "json").stdout)
    assert data["since"] == "2026-01-05T00:00:00+00:00"
    assert data["until"] == "2026-01-07T00:00:00+00:00"
    assert [(a["label"], a["results"], a["total"]) for a in data["activity"]] == [
        ("reset (self-service)", {"succeeded": 3, "failed": 1, "abandoned": 2,
                                  "contacted_admin": 1}, 7),
        ("unlock (self-service)", {"succeeded": 1}, 1),
        ("change (self-service)", {"cancelled": 1}, 1),
        ("registered", {"succeeded": 2}, 2),
        ("blocked", {"blocked": 1}, 1),
        ("flow progress", {"succeeded": 5, "failed": 2}, 7),
    ]
    assert data["total_events"] == 19
    assert data["coverage"] == {"eligible": 7, "registered": 4, "percent": 57.1,
                                "not_registered": ["bob", "carol", "hugo"]}
    assert [(b["username"], b["known_user"], b["reason"]) for b in data["blocked"]] == [
        ("alice", True, "too_many_codes"), ("ghost", False, "failed_flows")]

    text = kiosk.ok("report", *PERIOD).stdout
    words = [" ".join(line.split()) for line in text.splitlines()]
    assert words[:16] == [
        "Self-service activity from 2026-01-05 00:00 UTC to 2026-01-07 00:00 UTC",
        "",
        "activity result events",
        "reset (self-service) succeeded 3",
        "failed 1",
        "abandoned 2",
        "contacted admin 1",
        "total 7",
        "unlock (self-service) succeeded 1",
        "change (self-service) cancelled 1",
        "registered succeeded 2",
        "blocked blocked 1",
        "flow progress succeeded 5",
        "failed 2",
        "total 7",
        "all activity 19",
    ]
    assert "4 of 7 eligible users: 57.1%" in words
    assert "not registered enough: bob, carol, hugo" in words
    at = words.index("Blocked from self-service now: 2")
    assert words[at + 1].startswith("alice until ") and words[at + 1].endswith(
        "too_many_codes support code S-too_ma")
    assert words[at + 2].startswith("ghost (not in the directory) until ")
    # the terminal's block, with how to lift it
    assert words[at + 4] == "Terminals slowed down or blocked now: 1"
    assert words[at + 5].startswith("console:lobby 0 failed verifications blocked until ")
    assert words[at + 5].endswith("(lift: kiosk admin throttle lift TERMINAL)")
    assert data["terminals"][0]["terminal"] == "console:lobby"

    quiet = kiosk.ok("report").stdout  # the default period (30 days) has no events
    assert "no events in this period" in quiet and "57.1%" in quiet


def test_report_with_no_users_and_a_shifting_scope(kiosk: Kiosk) -> None:
    kiosk.ok("groups", "add", "sspr")
    assert "no eligible users" in kiosk.ok("report").stdout
    kiosk.ok("users", "add", "ann", "--email", "ann@contoso.org")
    assert "no eligible users" in kiosk.ok("report").stdout  # not in sspr
    kiosk.ok("users", "set-admin", "ann")  # administrators are always in scope
    assert "0 of 1 eligible users: 0.0%" in kiosk.ok("report").stdout


def test_parse_when() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert parse_when("now", now) == now
    assert parse_when("7d", now) == now - timedelta(days=7)
    assert parse_when("1d12h", now) == now - timedelta(days=1, hours=12)
    assert parse_when("2w", now) == now - timedelta(weeks=2)
    assert parse_when("30m", now) == now - timedelta(minutes=30)
    assert parse_when("2026-03-01", now) == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_when("2026-03-01", now, end=True) == datetime(2026, 3, 2, tzinfo=UTC)
    assert parse_when("2026-03-01T09:30", now) == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert parse_when("2026-03-01 09:30+02:00", now) == datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    assert parse_when("2026-03-01T09:30Z", now) == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    for bad in ("", "7", "d7", "yesterday", "2026-13-01", "7x"):
        with pytest.raises(BadTime):
            parse_when(bad, now)


def test_csv_safe() -> None:
    assert csv_safe("=1+1") == "'=1+1"
    assert csv_safe("+1") == "'+1" and csv_safe("-1") == "'-1" and csv_safe("@x") == "'@x"
    assert csv_safe("\t=1") == "'\t=1" and csv_safe("\r=1") == "'\r=1"
    assert csv_safe("alice") == "alice" and csv_safe("a=b") == "a=b" and csv_safe(None) == ""
