"""The audit log: append-only events, one correlation id per flow. Never a secret in `detail`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, insert, select

from kiosk.engine.schema import audit_events


class Activity(StrEnum):
    RESET = "reset"
    UNLOCK = "unlock"
    CHANGE = "change"
    REGISTERED = "registered"
    BLOCKED = "blocked"
    PROGRESS = "flow_progress"
    OPERATOR_EXIT = "operator_exit"  # the kiosk's operator exit: each passphrase tried
    HELPDESK = "helpdesk"  # an agent's action: a case opened, a block lifted, a pass


ACTIVITY_LABELS = {
    Activity.RESET: "reset (self-service)",
    Activity.UNLOCK: "unlock (self-service)",
    Activity.CHANGE: "change (self-service)",
    Activity.REGISTERED: "registered",
    Activity.BLOCKED: "blocked",
    Activity.PROGRESS: "flow progress",
    Activity.OPERATOR_EXIT: "operator exit",
    Activity.HELPDESK: "helpdesk",
}


class Result(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    BLOCKED = "blocked"
    ABANDONED = "abandoned"
    CANCELLED = "cancelled"
    CONTACTED_ADMIN = "contacted_admin"


@dataclass(frozen=True)
class AuditContext:
    correlation_id: str
    support_code: str
    terminal: str
    username: str


def record(
    conn: Connection,
    ctx: AuditContext,
    when: datetime,
    activity: Activity,
    result: Result,
    *,
    method: str = "",
    detail: str = "",
) -> None:
    conn.execute(
        insert(audit_events).values(
            at=when,
            correlation_id=ctx.correlation_id,
            support_code=ctx.support_code,
            activity=activity.value,
            result=result.value,
            terminal=ctx.terminal,
            username=ctx.username,
            method=method,
            detail=detail[:500],
        )
    )


def events_for(conn: Connection, correlation_id: str) -> list[dict[str, object]]:
    rows = conn.execute(
        select(audit_events)
        .where(audit_events.c.correlation_id == correlation_id)
        .order_by(audit_events.c.id)
    )
    return [dict(row._mapping) for row in rows]
