"""A flow as stored: load, check, save, and its view for the UI (FlowState)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from kiosk.backend import (
    Challenge,
    Channel,
    FlowExpired,
    FlowNotFound,
    FlowState,
    MethodKind,
    MethodOption,
    Purpose,
    Question,
    RegistrationStatus,
    Step,
    StepOutOfOrder,
)
from kiosk.engine.audit import AuditContext
from kiosk.engine.schema import challenges, flows

# the verification steps between which a person may move freely (switching method)
VERIFY_STEPS = (Step.CHOOSE_METHOD, Step.VERIFY_CODE, Step.ANSWER_QUESTIONS, Step.VERIFY_TOTP)

@dataclass
class Flow:
    id: str
    correlation_id: str
    support_code: str
    purpose: Purpose
    username: str
    user_id: int | None  # None: a decoy for an unknown name
    terminal: str
    status: str
    step: Step
    gates_required: int
    gates_passed: list[str]
    attempted: bool
    data: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    registration: RegistrationStatus | None = field(default=None, compare=False)
    # whom the per-user throttle counts (kiosk.engine.throttle): the account, or the name
    subject: str = ""
    # the visitor's language ("" for a flow from before migration 0006: the default)
    language: str = ""

    @property
    def decoy(self) -> bool:
        return self.user_id is None

    def known_user_id(self) -> int:
        """The account of a flow that is not a decoy (LookupError for a decoy, as for an
        unknown id)."""
        if self.user_id is None:
            raise LookupError("a decoy flow has no account")
        return self.user_id

    @property
    def account_id(self) -> int | None:
        """The directory account behind the flow, also behind a decoy (None: unknown name)."""
        if self.user_id is not None:
            return self.user_id
        if self.subject.startswith("account:"):
            return int(self.subject.removeprefix("account:"))
        return None

    @property
    def proven(self) -> bool:
        return len(self.gates_passed) >= self.gates_required

    @property
    def audit(self) -> AuditContext:
        return AuditContext(self.correlation_id, self.support_code, self.terminal, self.username)

    def expect(self, *steps: Step) -> None:
        """Refuse a call that does not belong to the flow's current step."""
        if self.step not in steps:
            raise StepOutOfOrder(
                f"this action is not possible now (step: {self.step.value})",
                support_code=self.support_code, step=self.step.value)


def flow_from_row(row: Any) -> Flow:
    return Flow(
        id=row.id, correlation_id=row.correlation_id, support_code=row.support_code,
        purpose=Purpose(row.purpose), username=row.username, user_id=row.user_id,
        terminal=row.terminal, status=row.status, step=Step(row.step),
        gates_required=row.gates_required, gates_passed=list(row.gates_passed),
        attempted=row.attempted, data=dict(row.data), created_at=row.created_at,
        expires_at=row.expires_at, subject=row.subject or f"user:{row.username}",
        language=row.language or "")


def load_flow(conn: Connection, flow_id: object, terminal: str) -> Flow:
    """The open flow with this id started at this terminal (expiry is the caller's check)."""
    if not isinstance(flow_id, str) or not 10 <= len(flow_id) <= 64:
        raise FlowNotFound("no such flow")
    row = conn.execute(select(flows).where(flows.c.id == flow_id)).first()
    # a flow belongs to the terminal that started it: another terminal cannot continue it
    if row is None or row.terminal != terminal:
        raise FlowNotFound("no such flow")
    flow = flow_from_row(row)
    if flow.status != "open":
        raise FlowNotFound("this flow has ended", support_code=flow.support_code)
    return flow


def expired(flow: Flow, now: datetime) -> FlowExpired | None:
    if now < flow.expires_at:
        return None
    return FlowExpired("this flow has expired; please start again",
                       support_code=flow.support_code)


def save_flow(conn: Connection, flow: Flow, ended_at: datetime | None = None) -> None:
    conn.execute(update(flows).where(flows.c.id == flow.id).values(
        status=flow.status, step=flow.step.value, gates_passed=list(flow.gates_passed),
        gates_required=flow.gates_required,
        attempted=flow.attempted, data=dict(flow.data), ended_at=ended_at))


def current_challenge(conn: Connection, flow: Flow) -> Challenge | None:
    challenge_id = flow.data.get("challenge")
    if not challenge_id:
        return None
    row = conn.execute(select(challenges).where(challenges.c.id == challenge_id)).first()
    if row is None:
        return None
    return Challenge(
        id=row.id, method=MethodKind(row.method), channel=Channel(row.channel),
        masked=flow.data.get("challenge_masked", ""), expires_at=row.expires_at,
        resend_at=datetime.fromisoformat(flow.data.get("resend_at") or row.created_at.isoformat()),
        code_length=flow.data.get("code_length", 8))


def view(conn: Connection, flow: Flow, offered: list[MethodOption],
         required_shown: int | None = None) -> FlowState:
    """The flow as the client sees it. `required_shown`: the number of proofs to show while
    none has succeeded (so an administrator's two look like everybody's one)."""
    questions = [Question(**q) for q in flow.data.get("questions", [])]
    return FlowState(
        flow_id=flow.id, purpose=flow.purpose, step=flow.step, methods=offered,
        gates_passed=len(flow.gates_passed),
        gates_required=flow.gates_required if required_shown is None else required_shown,
        expires_at=flow.expires_at, support_code=flow.support_code,
        challenge=current_challenge(conn, flow)
        if flow.step in (Step.VERIFY_CODE, Step.REGISTER) else None,
        questions=questions if flow.step == Step.ANSWER_QUESTIONS else [],
        registration=flow.registration,
        result=flow.data.get("result"))
