"""Reporting over the audit log: the export (CSV / JSON) and the operator's summary report.

The audit log holds no secrets (see kiosk.engine.audit), so an export is every column as stored.
Times are aware UTC datetimes; a period is [since, until).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from kiosk.engine.admin import NOT_REGISTERED, Admin
from kiosk.engine.audit import ACTIVITY_LABELS, Activity, Result
from kiosk.engine.engine import Engine
from kiosk.engine.schema import audit_events, blocks, flows
from kiosk.engine.throttle import TerminalState, per_user_blocks, terminal_states

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class BadTime(ValueError):
    pass


def parse_when(text: str, now: datetime, *, end: bool = False) -> datetime:
    """An instant from what an operator types.

    - `now`;
    - a duration back from now: `7d`, `12h`, `30m`, `2w`, `1d12h`;
    - a date `2026-01-05`: the start of that day (UTC), or with `end=True` the start of the next
      day, so `--until 2026-01-31` includes the 31st;
    - a date and time `2026-01-05T09:30` or `2026-01-05 09:30`, with an optional offset
      (`+02:00`, `Z`); without one it is UTC.
    """
    raw = text.strip()
    if raw.casefold() == "now":
        return now
    compact = raw.replace(" ", "").casefold()
    if compact and _DURATION.sub("", compact) == "":
        delta = timedelta()
        for amount, unit in _DURATION.findall(compact):
            delta += timedelta(**{_UNITS[unit]: int(amount)})
        return now - delta
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        pass
    else:
        start = datetime.combine(day, time(), tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise BadTime(f"{text!r} is not a date (2026-01-05), a date and time "
                      "(2026-01-05T09:30, UTC unless an offset is given) or a duration "
                      "back from now (7d, 12h, 30m, 2w)") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def label_of(activity: str) -> str:
    try:
        return ACTIVITY_LABELS[Activity(activity)]
    except ValueError:
        return activity  # a type newer than this code: show it as stored


def result_label(result: str) -> str:
    return result.replace("_", " ")


# ---------------------------------------------------------------------------- export
EXPORT_COLUMNS = ("time", "activity", "activity_label", "result", "username", "terminal",
                  "method", "support_code", "correlation_id", "detail")


def audit_query(since: datetime | None = None, until: datetime | None = None,
                username: str | None = None, support_code: str | None = None) -> Select[Any]:
    """The audit events of [since, until) (either end may be open), of one user (stored,
    casefolded form) or one flow (its support code), oldest first."""
    query = select(audit_events).order_by(audit_events.c.at, audit_events.c.id)
    if since is not None:
        query = query.where(audit_events.c.at >= since)
    if until is not None:
        query = query.where(audit_events.c.at < until)
    if username is not None:
        query = query.where(audit_events.c.username == username)
    if support_code is not None:
        query = query.where(audit_events.c.support_code == support_code.strip().upper())
    return query


def audit_rows(engine: Engine, since: datetime, until: datetime,
               username: str | None = None) -> Iterator[dict[str, Any]]:
    """The audit events of [since, until), oldest first, as export rows."""
    with engine.db.connect() as conn:
        for row in conn.execution_options(yield_per=500).execute(
                audit_query(since, until, username)):
            yield {
                "time": row.at.isoformat(timespec="seconds"),
                "activity": row.activity,
                "activity_label": label_of(row.activity),
                "result": row.result,
                "username": row.username,
                "terminal": row.terminal,
                "method": row.method,
                "support_code": row.support_code,
                "correlation_id": row.correlation_id,
                "detail": row.detail,
            }


# ---------------------------------------------------------------------------- report
@dataclass(frozen=True)
class BlockedUser:
    username: str
    known: bool  # False: a name not in the directory (throttled like a real one)
    reason: str
    support_code: str
    since: datetime
    until: datetime


@dataclass(frozen=True)
class Coverage:
    eligible: int  # enabled users in the self-service scope (administrators always)
    registered: int  # of them, those with enough usable methods to reset
    missing: list[str] = field(default_factory=list)  # eligible users not registered enough

    @property
    def percent(self) -> float | None:
        return None if not self.eligible else round(100 * self.registered / self.eligible, 1)


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    generated_at: datetime
    activity: dict[str, dict[str, int]]  # activity -> result -> count (only non-zero)
    coverage: Coverage
    blocked: list[BlockedUser]
    terminals: list[TerminalState] = field(default_factory=list)

    @property
    def total_events(self) -> int:
        return sum(sum(results.values()) for results in self.activity.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(timespec="seconds"),
            "until": self.until.isoformat(timespec="seconds"),
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "activity": [
                {"activity": activity, "label": label_of(activity),
                 "results": results, "total": sum(results.values())}
                for activity, results in self.activity.items()
            ],
            "total_events": self.total_events,
            "coverage": {"eligible": self.coverage.eligible,
                         "registered": self.coverage.registered,
                         "percent": self.coverage.percent,
                         "not_registered": self.coverage.missing},
            "blocked": [{"username": b.username, "known_user": b.known, "reason": b.reason,
                         "support_code": b.support_code,
                         "since": b.since.isoformat(timespec="seconds"),
                         "until": b.until.isoformat(timespec="seconds")} for b in self.blocked],
            "terminals": [{"terminal": t.terminal, "failures": t.failures,
                           "wait_seconds": t.wait_seconds, "reason": t.reason,
                           "blocked_until": t.blocked_until.isoformat(timespec="seconds")
                           if t.blocked_until else None} for t in self.terminals],
        }


def activity_counts(engine: Engine, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
    """Events per activity type and result in [since, until), in the order of the design's
    activity and result lists (unknown values last, as stored)."""
    query = (select(audit_events.c.activity, audit_events.c.result, func.count())
             .where(audit_events.c.at >= since, audit_events.c.at < until)
             .group_by(audit_events.c.activity, audit_events.c.result))
    with engine.db.connect() as conn:
        rows = conn.execute(query).all()
    activity_order = [a.value for a in ACTIVITY_LABELS]
    result_order = [r.value for r in Result]

    def rank(order: list[str], value: str) -> tuple[int, str]:
        return (order.index(value) if value in order else len(order), value)

    counts: dict[str, dict[str, int]] = {}
    for activity, result, count in sorted(rows, key=lambda r: (rank(activity_order, r[0]),
                                                               rank(result_order, r[1]))):
        counts.setdefault(activity, {})[result] = int(count)
    return counts


def events_per_terminal(engine: Engine, since: datetime, until: datetime,
                        limit: int = 20) -> list[tuple[str, int]]:
    """The busiest terminals of [since, until): (terminal, events), most events first."""
    count = func.count()
    query = (select(audit_events.c.terminal, count)
             .where(audit_events.c.at >= since, audit_events.c.at < until)
             .group_by(audit_events.c.terminal).order_by(count.desc()).limit(limit))
    with engine.db.connect() as conn:
        return [(str(terminal), int(n)) for terminal, n in conn.execute(query)]


def flows_started(engine: Engine, since: datetime) -> int:
    with engine.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(flows)
                                .where(flows.c.created_at >= since)).scalar_one())


def active_blocks(engine: Engine, now: datetime) -> int:
    """Blocks in force now, of users and of terminals."""
    with engine.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(blocks)
                                .where(blocks.c.until > now)).scalar_one())


def coverage(admin: Admin) -> Coverage:
    """Registration coverage among the users self-service is for: enabled users in the scope
    (sspr.enabled / sspr.groups, nested groups counting; administrators always) who have enough
    usable methods registered (sspr.methods_required, two for administrators)."""
    people = [u for u in admin.list_users() if u.eligible]
    missing = [u.username for u in people if u.sspr == NOT_REGISTERED]
    return Coverage(len(people), len(people) - len(missing), missing)


def blocked_users(engine: Engine, now: datetime) -> list[BlockedUser]:
    """Users blocked from self-service right now (a block with `until` after now)."""
    with engine.db.connect() as conn:
        newest = per_user_blocks(conn, now)
        known = set()
        if newest:
            known = {name for name in newest if engine.directory.find(conn, name)}
    return [BlockedUser(name, name in known, row.reason, row.support_code, row.created_at,
                        row.until) for name, row in sorted(newest.items())]


def build_report(admin: Admin, since: datetime, until: datetime) -> Report:
    engine = admin.engine
    now = engine.clock.now()
    with engine.db.connect() as conn:
        terminals = terminal_states(engine.throttle, conn, now)
    return Report(since=since, until=until, generated_at=now,
                  activity=activity_counts(engine, since, until), coverage=coverage(admin),
                  blocked=blocked_users(engine, now), terminals=terminals)


def render_report(report: Report, *, max_names: int = 20) -> str:
    """The report as plain text for a terminal (80 columns)."""

    def stamp(value: datetime) -> str:
        return value.strftime("%Y-%m-%d %H:%M UTC")

    lines = [f"Self-service activity from {stamp(report.since)} to {stamp(report.until)}", ""]
    if report.activity:
        width = max(len(label_of(a)) for a in report.activity)
        width = max(width, len("activity"))
        lines.append(f"  {'activity':<{width}}  {'result':<16}{'events':>8}")
        for activity, results in report.activity.items():
            label = label_of(activity)
            for result, count in results.items():
                lines.append(f"  {label:<{width}}  {result_label(result):<16}{count:>8}")
                label = ""
            if len(results) > 1:
                lines.append(f"  {'':<{width}}  {'total':<16}{sum(results.values()):>8}")
        lines.append(f"  {'all activity':<{width}}  {'':<16}{report.total_events:>8}")
    else:
        lines.append("  no events in this period")
    cov = report.coverage
    lines += ["", "Registration coverage (users self-service is for, registered enough)"]
    if cov.percent is None:
        lines.append("  no eligible users")
    else:
        lines.append(f"  {cov.registered} of {cov.eligible} eligible users: {cov.percent:.1f}%")
        if cov.missing:
            names = ", ".join(cov.missing[:max_names])
            more = f" and {len(cov.missing) - max_names} more" if len(cov.missing) > max_names \
                else ""
            lines.append(f"  not registered enough: {names}{more}")
    lines += ["", f"Blocked from self-service now: {len(report.blocked)}"]
    for b in report.blocked:
        who = b.username if b.known else f"{b.username} (not in the directory)"
        lines.append(f"  {who}  until {stamp(b.until)}  {b.reason}  support code "
                     f"{b.support_code}")
    lines += ["", f"Terminals slowed down or blocked now: {len(report.terminals)}"]
    for t in report.terminals:
        state = (f"blocked until {stamp(t.blocked_until)} ({t.reason})" if t.blocked_until
                 else f"waits {t.wait_seconds} s before its next attempt")
        lines.append(f"  {t.terminal}  {t.failures} failed verifications  {state}"
                     "  (lift: kiosk admin throttle lift TERMINAL)")
    return "\n".join(lines)
