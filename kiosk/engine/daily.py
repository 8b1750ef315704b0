"""The console's reports: resets, unlocks, registrations and blocks per day, the top failure
reasons and each terminal's activity, all counted by the database (GROUP BY over the audit
log's time index), never by reading the log into Python; plus the registration coverage of
kiosk.engine.report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select

from kiosk.engine.audit import Activity, Result
from kiosk.engine.engine import Engine
from kiosk.engine.report import label_of
from kiosk.engine.schema import audit_events

# the series a day shows: (activity, result) pairs counted
SERIES: dict[str, tuple[str, str]] = {
    "resets": (Activity.RESET.value, Result.SUCCEEDED.value),
    "unlocks": (Activity.UNLOCK.value, Result.SUCCEEDED.value),
    "registrations": (Activity.REGISTERED.value, Result.SUCCEEDED.value),
    "blocks": (Activity.BLOCKED.value, Result.BLOCKED.value),
}
FAILED = (Result.FAILED.value, Result.BLOCKED.value)
TOP = 10


@dataclass(frozen=True)
class TerminalActivity:
    terminal: str
    events: int
    succeeded: int
    failed: int


@dataclass(frozen=True)
class Daily:
    days: list[str]  # ISO dates, oldest first, every day of the period
    series: dict[str, list[int]]  # SERIES name -> one count per day
    failures: list[tuple[str, int]]  # (reason, count), most frequent first
    terminals: list[TerminalActivity]  # busiest first
    eligible: int = 0
    registered: int = 0
    missing: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float | None:
        return None if not self.eligible else round(100 * self.registered / self.eligible, 1)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Daily:
        values = dict(data)
        values["failures"] = [tuple(pair) for pair in data["failures"]]
        values["terminals"] = [TerminalActivity(**t) for t in data["terminals"]]
        return cls(**values)


def _day_of(engine: Engine) -> Any:
    column = audit_events.c.at
    if engine.db.dialect.name == "postgresql":  # timestamptz: the UTC day, whatever the session
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite keeps UTC text


def daily(engine: Engine, since: datetime, until: datetime) -> Daily:
    """The period [since, until) day by day (UTC days)."""
    window = (audit_events.c.at >= since, audit_events.c.at < until)
    day = _day_of(engine).label("day")
    pairs = list(SERIES.values())
    with engine.db.connect() as conn:
        per_day = conn.execute(
            select(day, audit_events.c.activity, audit_events.c.result, func.count())
            .where(*window, audit_events.c.activity.in_({a for a, _ in pairs}))
            .group_by(day, audit_events.c.activity, audit_events.c.result)).all()
        reasons = conn.execute(
            select(audit_events.c.activity, audit_events.c.detail, func.count().label("n"))
            .where(*window, audit_events.c.result.in_(FAILED))
            .group_by(audit_events.c.activity, audit_events.c.detail)
            .order_by(func.count().desc(), audit_events.c.detail).limit(TOP)).all()
        terminals = conn.execute(
            select(audit_events.c.terminal, func.count(),
                   func.sum(case((audit_events.c.result == Result.SUCCEEDED.value, 1),
                                 else_=0)),
                   func.sum(case((audit_events.c.result.in_(FAILED), 1), else_=0)))
            .where(*window).group_by(audit_events.c.terminal)
            .order_by(func.count().desc(), audit_events.c.terminal).limit(TOP)).all()
    first, last = since.date(), (until - timedelta(microseconds=1)).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    index = {d.isoformat(): n for n, d in enumerate(days)}
    series = {name: [0] * len(days) for name in SERIES}
    for when, activity, result, count in per_day:
        key = str(when)[:10] if not isinstance(when, date) else when.isoformat()
        for name, pair in SERIES.items():
            if pair == (activity, result) and key in index:
                series[name][index[key]] += int(count)
    return Daily(
        days=list(index), series=series,
        failures=[(f"{label_of(activity)}: {detail or '(no detail)'}", int(n))
                  for activity, detail, n in reasons],
        terminals=[TerminalActivity(t, int(n), int(ok or 0), int(bad or 0))
                   for t, n, ok, bad in terminals])


def _period(engine: Engine, days: int) -> tuple[datetime, datetime]:
    """The last `days` UTC days, today's up to now."""
    now = engine.clock.now()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    return start, now + timedelta(seconds=1)


def console_report(engine: Engine, days: int) -> Daily:
    """The last `days` UTC days up to now, with the registration coverage of the report."""
    from kiosk.engine.admin import Admin
    from kiosk.engine.report import coverage

    start, until = _period(engine, days)
    found = daily(engine, start, until)
    cov = coverage(Admin(engine))
    return Daily(found.days, found.series, found.failures, found.terminals, cov.eligible,
                 cov.registered, cov.missing)


def export_csv(engine: Engine, days: int) -> str:
    """The audit events of the period `console_report(engine, days)` covers, as CSV: the
    columns and formula quoting of `kiosk admin audit export`."""
    import io

    from kiosk.engine.admin import write_csv
    from kiosk.engine.report import EXPORT_COLUMNS, audit_rows

    out = io.StringIO(newline="")
    rows = audit_rows(engine, *_period(engine, days))
    write_csv(out, EXPORT_COLUMNS, ([r[c] for c in EXPORT_COLUMNS] for r in rows))
    return out.getvalue()
