"""The operation table: each Backend call declared once, with its HTTP route.

The HTTP client (kiosk.adapters.remote) and the API's routes (backend_stub.routes) are built
from these rows; the embedded adapter calls the engine's session method of the same name. A
call's arguments are named alike everywhere: the protocol's parameters are the route's path
segments (`{flow_id}`), then its body's fields, then its query parameters, and the engine's
session method takes the same names. A new call is a protocol method, a row here (with its
body model) and a session method in the engine.
"""

from __future__ import annotations

import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from kiosk.backend import bodies, types
from kiosk.backend.protocol import implement_calls

T = TypeVar("T")

# the error statuses a flow call may answer with besides its result (documented in OpenAPI)
FLOW_PROBLEMS = (400, 401, 403, 404, 409, 410, 413, 422, 429, 502, 503)


@dataclass(frozen=True)
class Bounded:
    """An integer query parameter with its default and its inclusive range."""

    name: str
    default: int
    low: int
    high: int


@dataclass(frozen=True)
class Operation:
    name: str  # the Backend method, the engine session's method and the API route's name
    verb: str  # GET, POST, PUT, DELETE
    path: str  # below /v1; `{flow_id}`-style segments are arguments of the call
    result: Any  # what the call answers: a model or a list of one
    body: type[BaseModel] | None = None  # the JSON body; its fields are arguments
    query: tuple[Bounded, ...] = ()  # query parameters; arguments too
    tag: str = "flow"  # the OpenAPI tag
    status: int = 200  # the status of a success
    doc: str = ""  # the API's description of the call
    problems: tuple[int, ...] = FLOW_PROBLEMS  # error statuses documented beyond the API's own
    idempotent: bool = False  # changes nothing: the HTTP client may try it once more

    @property
    def segments(self) -> tuple[str, ...]:
        """The path's arguments, in their order (`flow_id`, `challenge_id`)."""
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.path) if name)


def _flow(name: str, verb: str, path: str, result: Any = types.FlowState,
          **more: Any) -> Operation:
    """A call on one flow: its path lies below /flows/{flow_id}."""
    return Operation(name, verb, "/flows/{flow_id}" + path, result, **more)


def _registration(name: str, verb: str, path: str, result: Any = types.FlowState,
                  **more: Any) -> Operation:
    return _flow(name, verb, path, result, tag="registration", **more)


OPERATIONS: tuple[Operation, ...] = (
    Operation("branding", "GET", "/branding", types.Branding, tag="kiosk", problems=(),
              idempotent=True, doc="Organisation name, helpdesk contact, languages, theme, demo "
                                   "flag, password length."),
    Operation("start", "POST", "/flows", types.FlowState, bodies.StartBody, status=201,
              doc="Identify the user and start a flow (an unknown name gets a decoy flow that "
                  "looks real)."),
    _flow("cancel", "DELETE", "",
          doc="Cancel the flow (the person pressed Escape on the first step, or walked away)."),
    _flow("send_code", "POST", "/codes", body=bodies.SendCodeBody,
          doc="Send a code by email, text or call; the state carries the challenge (never the "
              "code)."),
    _flow("verify_code", "POST", "/codes/{challenge_id}/verify", body=bodies.CodeBody),
    _flow("questions", "POST", "/questions",
          doc="Draw (or return the current) set of security questions."),
    _flow("answer", "POST", "/answers", body=bodies.AnswersBody,
          doc="Answer the drawn questions; any wrong answer draws a new set (`wrong_answers`)."),
    _flow("verify_totp", "POST", "/totp", body=bodies.CodeBody,
          doc="The authenticator app's current code; a time step is never accepted twice."),
    _flow("verify_pass", "POST", "/pass", body=bodies.PassBody,
          doc="A temporary access pass from the helpdesk: one proof; a wrong one counts like a "
              "code."),
    _flow("check_password", "POST", "/password/check", types.PasswordCheck,
          body=bodies.PasswordBody,
          idempotent=True,
          doc="Check a candidate password against every rule (live checklist); changes "
              "nothing."),
    _flow("set_password", "PUT", "/password", body=bodies.PasswordBody,
          doc="Set the new password (reset or change); `password_rejected` lists every "
              "violation."),
    _flow("unlock", "POST", "/unlock"),
    # sign-in (purpose change / register) and registration
    _registration("sign_in", "POST", "/sign-in", body=bodies.PasswordBody,
                  doc="Purpose change / register: sign in with the current password."),
    _registration("question_pool", "GET", "/registration/question-pool", list[types.Question],
                  idempotent=True),
    _registration("add_email", "POST", "/registration/email", body=bodies.EmailBody,
                  doc="Send a confirmation code to a new email address."),
    _registration("add_phone", "POST", "/registration/phone", body=bodies.PhoneBody,
                  doc="Send a confirmation code to a new mobile or office phone."),
    _registration("confirm_contact", "POST", "/registration/contacts/{challenge_id}/confirm",
                  body=bodies.CodeBody),
    _registration("set_questions", "PUT", "/registration/questions", body=bodies.QuestionsBody),
    _registration("begin_authenticator", "POST", "/registration/authenticator",
                  types.AuthenticatorEnrollment,
                  doc="A new authenticator secret for the QR code; kept only until confirmed."),
    _registration("confirm_authenticator", "POST", "/registration/authenticator/confirm",
                  body=bodies.CodeBody),
    _registration("finish_registration", "POST", "/registration/finish"),
    # the operator exit: the UI checks the passphrase, the engine keeps this terminal's count
    Operation("operator_gate", "GET", "/operator-exit", types.OperatorExitState, tag="kiosk",
              problems=(), idempotent=True,
              doc="Whether this terminal's operator exit may check a passphrase now "
                  "(`retry_after` 0)."),
    Operation("operator_exit", "POST", "/operator-exit", types.OperatorExitState,
              bodies.OperatorExitBody, tag="kiosk", problems=(),
              doc="Record one passphrase the kiosk checked (audited with this terminal); after "
                  "five wrong\nones each next try waits longer, after ten the administrators "
                  "are alerted. The kiosk\ncloses only when the answer's `may_exit` is true."),
    # demo / training mode only
    Operation("outbox", "GET", "/outbox", list[types.OutboxMessage], tag="demo", problems=(404,),
              query=(Bounded("limit", 20, 1, 200),), idempotent=True,
              doc="Demo / training mode only (`not_available` otherwise): the messages the "
                  "outbox kept."),
)


def implement(factory: Callable[[Operation], Callable[..., Awaitable[Any]]]
              ) -> Callable[[type[T]], type[T]]:
    """A class decorator: the class gets one method per operation, made by `factory`, named,
    documented and signed like the Backend protocol's method."""
    by_name = {op.name: op for op in OPERATIONS}  # one row per call (a test checks)
    return implement_calls(lambda name: factory(by_name[name]))
