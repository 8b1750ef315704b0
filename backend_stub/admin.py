"""`/v1/admin/...`: read-only operator endpoints (users, audit export, report, terminals).

Authenticated by the admin token (a different secret from any terminal key, compared in
constant time by the Guard middleware). Nothing here returns a password hash, an answer, an
authenticator secret, or a code: contacts are masked, questions are listed by id only.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, func, select

from backend_stub.auth import admin_caller
from backend_stub.problems import documented
from kiosk.backend import NotAvailable
from kiosk.engine import registry
from kiosk.engine.accounts import masks_of
from kiosk.engine.audit import ACTIVITY_LABELS, Activity
from kiosk.engine.engine import Engine
from kiosk.engine.schema import audit_events, blocks, flows, users
from kiosk.engine.terminals import TerminalStore
from kiosk.engine.text import normalize_username
from kiosk.engine.throttle import subjects_of

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


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(engine_of)]


# ---------------------------------------------------------------- users


def _blocked_until(conn: Connection, now: datetime, user_id: int,
                   username: str) -> datetime | None:
    return conn.execute(select(func.max(blocks.c.until)).where(
        blocks.c.subject.in_(subjects_of(user_id, username)), blocks.c.until > now)).scalar()


def _user(engine: Engine, conn: Connection, row: object, now: datetime) -> AdminUser:
    m = row._mapping  # type: ignore[attr-defined]
    reg = registry.load(conn, m["id"])
    kinds = list(reg.contacts)
    if reg.answers:
        kinds.append("questions")
    if reg.totp_secret:
        kinds.append("authenticator")
    return AdminUser(
        username=m["username"], display_name=m["display_name"], is_admin=m["is_admin"],
        enabled=m["enabled"], locked=m["locked"],
        groups=sorted(engine.directory.group_names(conn, m["id"])), methods=kinds,
        registered_at=m["registered_at"], password_changed_at=m["password_changed_at"],
        blocked_until=_blocked_until(conn, now, m["id"], m["username"]))


@router.get("/users", response_model=list[AdminUser])
def list_users(engine: EngineDep) -> list[AdminUser]:
    """Every user of the built-in directory, with groups (nested ones included) and methods."""
    now = engine.clock.now()
    with engine.db.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.username)).all()
        return [_user(engine, conn, row, now) for row in rows]


@router.get("/users/{username}", response_model=AdminUserDetail,
            responses=documented(404))
def show_user(username: str, engine: EngineDep) -> AdminUserDetail:
    """One user: masked contacts, question ids, blocks, the last 50 audit events."""
    now = engine.clock.now()
    name = normalize_username(username) if len(username) <= 256 else ""
    with engine.db.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == name)).first()
        if row is None:
            raise NotAvailable("no such user", username=name[:64])
        base = _user(engine, conn, row, now)
        reg = registry.load(conn, row.id)
        masks = masks_of(reg)
        found_blocks = conn.execute(select(blocks).where(
            blocks.c.subject.in_(subjects_of(row.id, name)), blocks.c.until > now)
            .order_by(blocks.c.until.desc())).all()
        events = conn.execute(select(audit_events).where(audit_events.c.username == name)
                              .order_by(audit_events.c.id.desc()).limit(50)).all()
        return AdminUserDetail(
            **base.model_dump(),
            contacts=[AdminMethod(kind=k, masked=v) for k, v in masks.items()]
            + ([AdminMethod(kind="authenticator")] if reg.totp_secret else []),
            question_ids=[a.question_id for a in reg.answers],
            blocks=[AdminBlock(subject=b.subject, reason=b.reason, support_code=b.support_code,
                               created_at=b.created_at, until=b.until) for b in found_blocks],
            recent_events=[_event(e) for e in events])


# ---------------------------------------------------------------- audit


def _event(row: object) -> AuditEvent:
    m = dict(row._mapping)  # type: ignore[attr-defined]
    try:
        label = ACTIVITY_LABELS[Activity(m["activity"])]
    except ValueError:
        label = m["activity"]
    return AuditEvent(activity_label=label, **m)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _events(engine: Engine, since: datetime | None, until: datetime | None,
            username: str | None, support_code: str | None, limit: int) -> list[AuditEvent]:
    query = select(audit_events).order_by(audit_events.c.id)
    since, until = _aware(since), _aware(until)
    if since is not None:
        query = query.where(audit_events.c.at >= since)
    if until is not None:
        query = query.where(audit_events.c.at < until)
    if username:
        query = query.where(audit_events.c.username == normalize_username(username))
    if support_code:
        query = query.where(audit_events.c.support_code == support_code.strip().upper())
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
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(AuditEvent.model_fields))
    writer.writeheader()
    for event in events:
        row = event.model_dump()
        row["at"] = event.at.isoformat()
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


def _cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (= + - @ tab CR first) is quoted."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


# ---------------------------------------------------------------- report


@router.get("/report", response_model=Report)
def report(engine: EngineDep, days: Annotated[int, Query(ge=1, le=366)] = 7) -> Report:
    """Activity over the last `days` days: results per activity, blocks, busiest terminals."""
    now = engine.clock.now()
    since = now - timedelta(days=days)
    window = (audit_events.c.at >= since, audit_events.c.at < now + timedelta(seconds=1))
    with engine.db.connect() as conn:
        grouped = conn.execute(
            select(audit_events.c.activity, audit_events.c.result, func.count())
            .where(*window).group_by(audit_events.c.activity, audit_events.c.result)
            .order_by(audit_events.c.activity, audit_events.c.result)).all()
        per_terminal = conn.execute(
            select(audit_events.c.terminal, func.count().label("n")).where(*window)
            .group_by(audit_events.c.terminal).order_by(func.count().desc()).limit(20)).all()
        started = conn.execute(select(func.count()).select_from(flows)
                               .where(flows.c.created_at >= since)).scalar_one()
        active = conn.execute(select(func.count()).select_from(blocks)
                              .where(blocks.c.until > now)).scalar_one()

    def count(activity: Activity, result: str = "succeeded") -> int:
        return sum(n for a, r, n in grouped if a == activity.value and r == result)

    rows = []
    for activity, result, n in grouped:
        try:
            label = ACTIVITY_LABELS[Activity(activity)]
        except ValueError:
            label = activity
        rows.append(ReportRow(activity=activity, activity_label=label, result=result, count=n))
    return Report(
        since=since, until=now, flows_started=started,
        resets_succeeded=count(Activity.RESET), unlocks_succeeded=count(Activity.UNLOCK),
        changes_succeeded=count(Activity.CHANGE), registrations=count(Activity.REGISTERED),
        blocks=count(Activity.BLOCKED, "blocked"), active_blocks=active, by_activity=rows,
        by_terminal=[TerminalRow(terminal=t, events=n) for t, n in per_terminal])


# ---------------------------------------------------------------- terminals


@router.get("/terminals", response_model=list[TerminalInfo])
def list_terminals(engine: EngineDep) -> list[TerminalInfo]:
    """The API keys' terminals (never a key or its hash); add and revoke with
    `kiosk admin terminals`."""
    return [TerminalInfo(id=t.id, name=t.name, identity=t.identity, created_at=t.created_at,
                         revoked_at=t.revoked_at)
            for t in TerminalStore(engine.db, engine.clock).list()]
