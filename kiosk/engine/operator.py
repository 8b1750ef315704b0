"""The operator exit's limits, kept in the database per terminal.

The kiosk checks the operator's passphrase itself (its argon2 hash is in the kiosk's own
policy); the engine keeps what must outlive a dialog and a restart and be the same embedded
and remote: how many wrong passphrases this terminal saw, how long the next try must wait,
and the audit trail of every try. The first FREE_FAILURES wrong ones cost nothing; after
them each try waits FIRST_WAIT seconds, doubling with every further wrong one (at most
MAX_WAIT). The right passphrase clears the count; wrong ones older than FORGET_AFTER are
forgotten. From ALERT_AFTER wrong ones on the administrators are alerted (at most one alert
per terminal an hour, ALERTS_PER_HOUR in all, counted in the audit log like misuse alerts).

Counts are throttle events (subject "operator:<terminal>") under the throttle's lock row, so
two processes serving one terminal count and decide one at a time.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy import Engine as Database

from kiosk.backend import Channel, InvalidInput, OperatorExitState
from kiosk.engine import audit
from kiosk.engine.audit import Activity, AuditContext, Result
from kiosk.engine.clock import Clock
from kiosk.engine.config import Policy
from kiosk.engine.crypto import support_code
from kiosk.engine.delivery_base import Message
from kiosk.engine.messages import message_language, operator_exit_alert
from kiosk.engine.notify import admin_contacts
from kiosk.engine.schema import audit_events, throttle_events
from kiosk.engine.throttle import Throttler

log = logging.getLogger("kiosk.engine")

OPERATOR_FAIL = "operator_fail"
FREE_FAILURES = 5
FIRST_WAIT = 30  # seconds
MAX_WAIT = 3600
FORGET_AFTER = timedelta(hours=24)
ALERT_AFTER = 10
ALERT_DETAIL = "operator exit alert sent to the administrators"
ALERTS_PER_TERMINAL_PER_HOUR = 1
ALERTS_PER_HOUR = 20


def operator_subject(terminal: str) -> str:
    return f"operator:{terminal}"


def wait_after(failures: int) -> int:
    """Seconds the next try waits after `failures` wrong passphrases in a row."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_WAIT * 2 ** min(failures - FREE_FAILURES, 16), MAX_WAIT)


@dataclass(frozen=True)
class Tally:
    failures: int
    last: datetime | None

    def retry_after(self, now: datetime) -> int:
        if self.last is None:
            return 0
        left = (self.last - now).total_seconds() + wait_after(self.failures)
        return max(0, math.ceil(left))


class Host(Protocol):
    """What this needs of the engine."""

    db: Database
    clock: Clock
    policy: Policy
    throttle: Throttler

    def notify(self, notices: list[Message]) -> None: ...


class OperatorExits:
    """The engine's two operator-exit calls (kiosk.engine.engine.Engine delegates here)."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def gate(self, terminal: str) -> OperatorExitState:
        now = self.host.clock.now()
        with self.host.db.connect() as conn:
            tally = self._tally(conn, operator_subject(terminal), now)
        return OperatorExitState(failures=tally.failures, retry_after=tally.retry_after(now))

    def record(self, terminal: str, ok: object) -> OperatorExitState:
        if not isinstance(ok, bool):
            raise InvalidInput("ok must be true or false", field="ok")
        notices: list[Message] = []
        with self.host.db.begin() as conn:
            state = self._record(conn, terminal, ok, notices)
        self.host.notify(notices)
        return state

    # ------------------------------------------------------------ inside the transaction
    def _record(self, conn: Connection, terminal: str, ok: bool,
                notices: list[Message]) -> OperatorExitState:
        now = self.host.clock.now()
        subject = operator_subject(terminal)
        self.host.throttle.lock(conn, subject)
        before = self._tally(conn, subject, now)
        wait = before.retry_after(now)
        correlation = str(uuid.uuid4())
        ctx = AuditContext(correlation, support_code(correlation), terminal, "")

        def event(result: Result, detail: str) -> None:
            audit.record(conn, ctx, now, Activity.OPERATOR_EXIT, result, detail=detail)

        if ok and wait == 0:
            conn.execute(delete(throttle_events).where(throttle_events.c.subject == subject))
            event(Result.SUCCEEDED, f"right passphrase after {before.failures} wrong; "
                                    "the kiosk closes")
            return OperatorExitState(may_exit=True)
        if ok:  # only a client that ignored the wait checks then: it does not get out
            event(Result.BLOCKED, f"right passphrase tried {wait} s before the wait ended; "
                                  "refused")
            return OperatorExitState(failures=before.failures, retry_after=wait)
        conn.execute(insert(throttle_events).values(subject=subject, kind=OPERATOR_FAIL,
                                                    method="", entry_hash="", at=now))
        failures = before.failures + 1
        wait = wait_after(failures)
        event(Result.FAILED, f"wrong passphrase ({failures} in a row"
                             + (f"; the next try waits {wait} s)" if wait else ")"))
        if failures >= ALERT_AFTER:
            notices += self._alert(conn, ctx, failures, now)
        return OperatorExitState(failures=failures, retry_after=wait)

    @staticmethod
    def _tally(conn: Connection, subject: str, now: datetime) -> Tally:
        count, last = conn.execute(
            select(func.count(), func.max(throttle_events.c.at)).where(
                throttle_events.c.subject == subject,
                throttle_events.c.kind == OPERATOR_FAIL,
                throttle_events.c.at > now - FORGET_AFTER,
            )
        ).one()
        return Tally(int(count), last)

    def _alert(self, conn: Connection, ctx: AuditContext, failures: int,
               now: datetime) -> list[Message]:
        if not self.host.policy.notifications.admins_on_block:
            return []
        recipients = admin_contacts(conn)
        if not recipients:
            return []
        sent = select(func.count()).select_from(audit_events).where(
            audit_events.c.at > now - timedelta(hours=1),
            audit_events.c.activity == Activity.OPERATOR_EXIT.value,
            audit_events.c.result == Result.CONTACTED_ADMIN.value,
        )
        here = sent.where(audit_events.c.terminal == ctx.terminal)
        if (conn.execute(here).scalar_one() >= ALERTS_PER_TERMINAL_PER_HOUR
                or conn.execute(sent).scalar_one() >= ALERTS_PER_HOUR):
            log.info("operator exit alert for %s held back: alert limit", ctx.terminal)
            return []
        audit.record(conn, ctx, now, Activity.OPERATOR_EXIT, Result.CONTACTED_ADMIN,
                     detail=ALERT_DETAIL)
        org = self.host.policy.organization
        return [operator_exit_alert(Channel.EMAIL, to, failures=failures, org=org, when=now,
                                    terminal=ctx.terminal,
                                    language=message_language(org, preferred))
                for to, preferred in recipients]
