"""The `/v1` endpoints: the Backend protocol, one endpoint per call.

Every endpoint is a plain `def`: FastAPI runs it in its thread pool, as engine calls are
synchronous (database, argon2). The terminal identity comes from the API key (`api:<key id>`)
and goes into every engine call, hence into every audit event and throttle key.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from backend_stub.auth import terminal_identity
from backend_stub.models import (
    AnswersBody,
    CodeBody,
    EmailBody,
    OperatorExitBody,
    PassBody,
    PasswordBody,
    PhoneBody,
    QuestionsBody,
    SendCodeBody,
    StartBody,
)
from backend_stub.problems import documented
from kiosk.backend import (
    AuthenticatorEnrollment,
    Branding,
    FlowState,
    OperatorExitState,
    OutboxMessage,
    PasswordCheck,
    Question,
    QuestionAnswer,
)
from kiosk.engine.engine import Engine

Terminal = Annotated[str, Depends(terminal_identity)]

# what any flow call may answer besides its result
FLOW_ERRORS = documented(400, 401, 403, 404, 409, 410, 413, 422, 429, 502, 503)

router = APIRouter(prefix="/v1", responses=documented(401, 413, 422, 503))


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(engine_of)]


@router.get("/branding", response_model=Branding, tags=["kiosk"])
def branding(engine: EngineDep, _terminal: Terminal) -> Branding:
    """Organisation name, helpdesk contact, languages, theme, demo flag, password length."""
    return engine.branding()


@router.post("/flows", response_model=FlowState, status_code=status.HTTP_201_CREATED,
             tags=["flow"], responses=FLOW_ERRORS)
def start(body: StartBody, engine: EngineDep, terminal: Terminal) -> FlowState:
    """Identify the user and start a flow (an unknown name gets a decoy flow that looks real)."""
    return engine.start(body.purpose, body.username, terminal)


@router.delete("/flows/{flow_id}", response_model=FlowState, tags=["flow"],
               responses=FLOW_ERRORS)
def cancel(flow_id: str, engine: EngineDep, terminal: Terminal) -> FlowState:
    """Cancel the flow (the person pressed Escape on the first step, or walked away)."""
    return engine.cancel(flow_id, terminal)


@router.post("/flows/{flow_id}/codes", response_model=FlowState, tags=["flow"],
             responses=FLOW_ERRORS)
def send_code(flow_id: str, body: SendCodeBody, engine: EngineDep,
              terminal: Terminal) -> FlowState:
    """Send a code by email, text or call; the state carries the challenge (never the code)."""
    return engine.send_code(flow_id, terminal, body.method, body.channel)


@router.post("/flows/{flow_id}/codes/{challenge_id}/verify", response_model=FlowState,
             tags=["flow"], responses=FLOW_ERRORS)
def verify_code(flow_id: str, challenge_id: str, body: CodeBody, engine: EngineDep,
                terminal: Terminal) -> FlowState:
    return engine.verify_code(flow_id, terminal, challenge_id, body.code)


@router.post("/flows/{flow_id}/questions", response_model=FlowState, tags=["flow"],
             responses=FLOW_ERRORS)
def questions(flow_id: str, engine: EngineDep, terminal: Terminal) -> FlowState:
    """Draw (or return the current) set of security questions."""
    return engine.questions(flow_id, terminal)


@router.post("/flows/{flow_id}/answers", response_model=FlowState, tags=["flow"],
             responses=FLOW_ERRORS)
def answer(flow_id: str, body: AnswersBody, engine: EngineDep, terminal: Terminal) -> FlowState:
    """Answer the drawn questions; any wrong answer draws a new set (`wrong_answers`)."""
    return engine.answer(flow_id, terminal, body.answers)


@router.post("/flows/{flow_id}/totp", response_model=FlowState, tags=["flow"],
             responses=FLOW_ERRORS)
def verify_totp(flow_id: str, body: CodeBody, engine: EngineDep,
                terminal: Terminal) -> FlowState:
    """The authenticator app's current code; a time step is never accepted twice."""
    return engine.verify_totp(flow_id, terminal, body.code)


@router.post("/flows/{flow_id}/pass", response_model=FlowState, tags=["flow"],
             responses=FLOW_ERRORS)
def verify_pass(flow_id: str, body: PassBody, engine: EngineDep,
                terminal: Terminal) -> FlowState:
    """A temporary access pass from the helpdesk: one proof; a wrong one counts like a code."""
    return engine.verify_pass(flow_id, terminal, body.access_pass)


@router.post("/flows/{flow_id}/password/check", response_model=PasswordCheck, tags=["flow"],
             responses=FLOW_ERRORS)
def check_password(flow_id: str, body: PasswordBody, engine: EngineDep,
                   terminal: Terminal) -> PasswordCheck:
    """Check a candidate password against every rule (live checklist); changes nothing."""
    return engine.check_password(flow_id, terminal, body.password)


@router.put("/flows/{flow_id}/password", response_model=FlowState, tags=["flow"],
            responses=FLOW_ERRORS)
def set_password(flow_id: str, body: PasswordBody, engine: EngineDep,
                 terminal: Terminal) -> FlowState:
    """Set the new password (reset or change); `password_rejected` lists every violation."""
    return engine.set_password(flow_id, terminal, body.password)


@router.post("/flows/{flow_id}/unlock", response_model=FlowState, tags=["flow"],
             responses=FLOW_ERRORS)
def unlock(flow_id: str, engine: EngineDep, terminal: Terminal) -> FlowState:
    return engine.unlock(flow_id, terminal)


# ---------------------------------------------------------------- sign-in and registration


@router.post("/flows/{flow_id}/sign-in", response_model=FlowState, tags=["registration"],
             responses=FLOW_ERRORS)
def sign_in(flow_id: str, body: PasswordBody, engine: EngineDep,
            terminal: Terminal) -> FlowState:
    """Purpose change / register: sign in with the current password."""
    return engine.sign_in(flow_id, terminal, body.password)


@router.get("/flows/{flow_id}/registration/question-pool", response_model=list[Question],
            tags=["registration"], responses=FLOW_ERRORS)
def question_pool(flow_id: str, engine: EngineDep, terminal: Terminal) -> list[Question]:
    return engine.question_pool(flow_id, terminal)


@router.post("/flows/{flow_id}/registration/email", response_model=FlowState,
             tags=["registration"], responses=FLOW_ERRORS)
def add_email(flow_id: str, body: EmailBody, engine: EngineDep,
              terminal: Terminal) -> FlowState:
    """Send a confirmation code to a new email address."""
    return engine.add_email(flow_id, terminal, body.address)


@router.post("/flows/{flow_id}/registration/phone", response_model=FlowState,
             tags=["registration"], responses=FLOW_ERRORS)
def add_phone(flow_id: str, body: PhoneBody, engine: EngineDep,
              terminal: Terminal) -> FlowState:
    """Send a confirmation code to a new mobile or office phone."""
    return engine.add_phone(flow_id, terminal, body.kind, body.number, body.channel)


@router.post("/flows/{flow_id}/registration/contacts/{challenge_id}/confirm",
             response_model=FlowState, tags=["registration"], responses=FLOW_ERRORS)
def confirm_contact(flow_id: str, challenge_id: str, body: CodeBody, engine: EngineDep,
                    terminal: Terminal) -> FlowState:
    return engine.confirm_contact(flow_id, terminal, challenge_id, body.code)


@router.put("/flows/{flow_id}/registration/questions", response_model=FlowState,
            tags=["registration"], responses=FLOW_ERRORS)
def set_questions(flow_id: str, body: QuestionsBody, engine: EngineDep,
                  terminal: Terminal) -> FlowState:
    entries = [QuestionAnswer(**e.model_dump()) for e in body.entries]
    return engine.set_questions(flow_id, terminal, entries)


@router.post("/flows/{flow_id}/registration/authenticator",
             response_model=AuthenticatorEnrollment, tags=["registration"],
             responses=FLOW_ERRORS)
def begin_authenticator(flow_id: str, engine: EngineDep,
                        terminal: Terminal) -> AuthenticatorEnrollment:
    """A new authenticator secret for the QR code; kept only until confirmed."""
    return engine.begin_authenticator(flow_id, terminal)


@router.post("/flows/{flow_id}/registration/authenticator/confirm", response_model=FlowState,
             tags=["registration"], responses=FLOW_ERRORS)
def confirm_authenticator(flow_id: str, body: CodeBody, engine: EngineDep,
                          terminal: Terminal) -> FlowState:
    return engine.confirm_authenticator(flow_id, terminal, body.code)


@router.post("/flows/{flow_id}/registration/finish", response_model=FlowState,
             tags=["registration"], responses=FLOW_ERRORS)
def finish_registration(flow_id: str, engine: EngineDep, terminal: Terminal) -> FlowState:
    return engine.finish_registration(flow_id, terminal)


# ---------------------------------------------------------------- operator exit


@router.get("/operator-exit", response_model=OperatorExitState, tags=["kiosk"])
def operator_gate(engine: EngineDep, terminal: Terminal) -> OperatorExitState:
    """Whether this terminal's operator exit may check a passphrase now (`retry_after` 0)."""
    return engine.operator_gate(terminal)


@router.post("/operator-exit", response_model=OperatorExitState, tags=["kiosk"])
def operator_exit(body: OperatorExitBody, engine: EngineDep,
                  terminal: Terminal) -> OperatorExitState:
    """Record one passphrase the kiosk checked (audited with this terminal); after five wrong
    ones each next try waits longer, after ten the administrators are alerted. The kiosk
    closes only when the answer's `may_exit` is true."""
    return engine.operator_exit(terminal, body.ok)


# ---------------------------------------------------------------- demo


@router.get("/outbox", response_model=list[OutboxMessage], tags=["demo"],
            responses=documented(404))
def outbox(engine: EngineDep, _terminal: Terminal,
           limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[OutboxMessage]:
    """Demo / training mode only (`not_available` otherwise): the messages the outbox kept."""
    return engine.outbox_messages(limit)
