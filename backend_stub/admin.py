"""`/v1/admin/...`: read-only operator endpoints (users, audit export, report, terminals),
a thin layer over the engine's admin core (kiosk.engine.admin, kiosk.engine.report).

Authenticated by the admin token (a different secret from any terminal key, compared in
constant time by the Guard middleware). Nothing here returns a password hash, an answer, an
authenticator secret, or a code: contacts are masked, questions are listed by id only.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Row

from backend_stub.auth import admin_caller
from backend_stub.problems import documented
from kiosk.backend import NotAvailable
from kiosk.engine.admin import Admin, NotFound, UserInfo, write_csv
from kiosk.engine.audit import Activity
from kiosk.engine.engine import Engine
from kiosk.engine.report import (
    active_blocks,
    activity_counts,
    audit_query,
    events_per_terminal,
    flows_started,
    label_of,
)
from kiosk.engine.schema import audit_events
from kiosk.engine.terminals import TerminalStore
from kiosk.engine.text import normalize_username

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(admin_caller)],
                   responses=documented(401, 413, 422, 503))

MAX_EXPORT = 10_000


class AdminMethod(BaseModel):
    kind: str
    masked: str = ""


class AdminUser(BaseModel):
    username: str
    display_name: str
    is_admin: bool
    enabled: bool
    locked: bool
    groups: list[str]
    methods: list[str] = Field(description="registered method kinds")
    registered_at: datetime | None
    password_changed_at: datetime | None
    blocked_until: datetime | None


class AdminBlock(BaseModel):
    subject: str
    reason: str
    support_code: str
    created_at: datetime
    until: datetime


class AuditEvent(BaseModel):
    id: int
    at: datetime
    correlation_id: str
    support_code: str
    activity: str
    activity_label: str
    result: str
    terminal: str
    username: str
    method: str
    detail: str


class AdminUserDetail(AdminUser):
    contacts: list[AdminMethod]
    question_ids: list[str] = Field(description="the registered questions (never the answers)")
    blocks: list[AdminBlock]
    recent_events: list[AuditEvent]


class ReportRow(BaseModel):
    activity: str
    activity_label: str
    result: str
    count: int


class TerminalRow(BaseModel):
    terminal: str
    events: int


class Report(BaseModel):
    since: datetime
    until: datetime
    flows_started: int
    resets_succeeded: int
    unlocks_succeeded: int
    changes_succeeded: int
    registrations: int
    blocks: int
    active_blocks: int
    by_activity: list[ReportRow]
    by_terminal: list[TerminalRow]


class TerminalInfo(BaseModel):
    id: str
    name: str
    identity: str
    created_at: datetime
    revoked_at: datetime | None


async def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(engine_of)]


# ---------------------------------------------------------------- users


def _user(info: UserInfo) -> AdminUser:
    return AdminUser(
        username=info.username, display_name=info.display_name, is_admin=info.is_admin,
        enabled=info.enabled, locked=info.locked, groups=info.all_groups,
        methods=list(info.methods), registered_at=info.registered_at,
        password_changed_at=info.password_changed_at, blocked_until=info.blocked_until)


@router.get("/users", response_model=list[AdminUser])
def list_users(engine: EngineDep) -> list[AdminUser]:
    """Every user of the built-in directory, with groups (nested ones included) and methods."""
    return [_user(info) for info in Admin(engine).list_users()]


@router.get("/users/{username}", response_model=AdminUserDetail,
            responses=documented(404))
def show_user(username: str, engine: EngineDep) -> AdminUserDetail:
    """One user: masked contacts, question ids, blocks, the last 50 audit events."""
    name = normalize_username(username) if len(username) <= 256 else ""
    admin = Admin(engine)
    try:
        info = admin.show_user(name)
        found_blocks = admin.user_blocks(name)
    except NotFound:
        raise NotAvailable("no such user", username=name[:64]) from None
    with engine.db.connect() as conn:
        events = conn.execute(audit_query(username=info.username)
                              .order_by(None).order_by(audit_events.c.id.desc()).limit(50))
        recent = [_event(e) for e in events]
    return AdminUserDetail(
        **_user(info).model_dump(),
        contacts=[AdminMethod(kind=k, masked="" if k == "authenticator" else v)
                  for k, v in info.methods.items() if k != "questions"],
        question_ids=info.question_ids,
        blocks=[AdminBlock(subject=b.subject, reason=b.reason, support_code=b.support_code,
                           created_at=b.created_at, until=b.until) for b in found_blocks],
        recent_events=recent)


# ---------------------------------------------------------------- audit


def _event(row: Row[Any]) -> AuditEvent:
    m = dict(row._mapping)
    return AuditEvent(activity_label=label_of(m["activity"]), **m)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _events(engine: Engine, since: datetime | None, until: datetime | None,
            username: str | None, support_code: str | None, limit: int) -> list[AuditEvent]:
    query = audit_query(_aware(since), _aware(until),
                        normalize_username(username) if username else None,
                        support_code or None)
    with engine.db.connect() as conn:
        return [_event(r) for r in conn.execute(query.limit(limit))]


Since = Annotated[datetime | None, Query(description="from this time (inclusive)")]
Until = Annotated[datetime | None, Query(description="before this time")]
User = Annotated[str | None, Query(max_length=256)]
Support = Annotated[str | None, Query(max_length=16, description="a support code: one flow")]
Limit = Annotated[int, Query(ge=1, le=MAX_EXPORT)]


@router.get("/audit", response_model=list[AuditEvent])
def audit_export(engine: EngineDep, since: Since = None, until: Until = None,
                 username: User = None, support_code: Support = None,
                 limit: Limit = 1000) -> list[AuditEvent]:
    """Audit events, oldest first (JSON)."""
    return _events(engine, since, until, username, support_code, limit)


@router.get("/audit.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "the audit events as CSV, oldest first"}})
def audit_export_csv(engine: EngineDep, since: Since = None, until: Until = None,
                     username: User = None, support_code: Support = None,
                     limit: Limit = 1000) -> Response:
    """Audit events, oldest first (CSV, one header row)."""
    events = _events(engine, since, until, username, support_code, limit)
    columns = list(AuditEvent.model_fields)
    out = io.StringIO()
    write_csv(out, columns, ([e.at.isoformat() if c == "at" else getattr(e, c) for c in columns]
                             for e in events), line_end="\r\n")
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


# ---------------------------------------------------------------- report


@router.get("/report", response_model=Report)
def report(engine: EngineDep, days: Annotated[int, Query(ge=1, le=366)] = 7) -> Report:
    """Activity over the last `days` days: results per activity, blocks, busiest terminals."""
    now = engine.clock.now()
    since, until = now - timedelta(days=days), now + timedelta(seconds=1)
    counts = activity_counts(engine, since, until)

    def count(activity: Activity, result: str = "succeeded") -> int:
        return counts.get(activity.value, {}).get(result, 0)

    return Report(
        since=since, until=now, flows_started=flows_started(engine, since),
        resets_succeeded=count(Activity.RESET), unlocks_succeeded=count(Activity.UNLOCK),
        changes_succeeded=count(Activity.CHANGE), registrations=count(Activity.REGISTERED),
        blocks=count(Activity.BLOCKED, "blocked"), active_blocks=active_blocks(engine, now),
        by_activity=[ReportRow(activity=activity, activity_label=label_of(activity),
                               result=result, count=n)
                     for activity, results in counts.items() for result, n in results.items()],
        by_terminal=[TerminalRow(terminal=t, events=n)
                     for t, n in events_per_terminal(engine, since, until)])


# ---------------------------------------------------------------- terminals


@router.get("/terminals", response_model=list[TerminalInfo])
def list_terminals(engine: EngineDep) -> list[TerminalInfo]:
    """The API keys' terminals (never a key or its hash); add and revoke with
    `kiosk admin terminals`."""
    return [TerminalInfo(id=t.id, name=t.name, identity=t.identity, created_at=t.created_at,
                         revoked_at=t.revoked_at)
            for t in TerminalStore(engine.db, engine.clock).list()]
