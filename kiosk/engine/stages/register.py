"""Registering security info after signing in (and, for an account with methods, after the
step-up proof): contacts confirmed by a code, questions, the authenticator confirmed by a
first code. Every change is told to every contact registered before it."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection

from kiosk.backend import (
    PHONE_KINDS,
    AuthenticatorEnrollment,
    Channel,
    FlowState,
    InvalidInput,
    Purpose,
    Question,
    QuestionAnswer,
    Step,
    WrongCode,
)
from kiosk.engine import accounts, audit, registry, totp
from kiosk.engine.audit import Activity, Result
from kiosk.engine.core import Core, text_arg
from kiosk.engine.delivery_base import Message
from kiosk.engine.directory import User
from kiosk.engine.flow import Flow, save_flow
from kiosk.engine.methods import METHODS, codes, kind_and_channel
from kiosk.engine.methods.authenticator import repeat_key
from kiosk.engine.methods.codes import CodeToCheck, clean_code
from kiosk.engine.notify import remember_language
from kiosk.engine.questions import PREDEFINED, validate_entries
from kiosk.engine.registry import StoredAnswer
from kiosk.engine.stages.prove import Prove
from kiosk.engine.text import normalize_answer, normalize_phone
from kiosk.engine.throttle import Reservation

PENDING_KEYS = ("pending", "challenge", "challenge_method", "challenge_masked", "resend_at")


class Register:
    def __init__(self, core: Core, prove: Prove) -> None:
        self.core = core
        self.prove = prove

    # ------------------------------------------------------------ shared
    def registering(self, conn: Connection, flow_id: object, terminal: str,
                    notices: list[Message], kind: str | None = None) -> tuple[Flow, User]:
        flow = self.core.flow(conn, flow_id, terminal, notices)
        return flow, self.registrant(conn, flow, kind)

    def registrant(self, conn: Connection, flow: Flow, kind: str | None = None) -> User:
        """The account of a flow at the registration step (reached only after the sign-in
        and, for an account with methods, the step-up proof)."""
        flow.expect(Step.REGISTER)
        user = self.core.user_of(conn, flow)
        if kind is not None and (kind not in self.core.policy.sspr.methods
                                 or (kind == "questions" and user.is_admin)):
            raise InvalidInput("this method cannot be registered here", field="kind")
        if kind in self.core.directory.owned_contacts:  # it would follow the directory's entry
            raise InvalidInput("this contact comes from the directory: the helpdesk changes it",
                               field="kind")
        return user

    def registered(self, conn: Connection, notices: list[Message], flow: Flow, user: User,
                   kind: str, before: dict[str, str], detail: str) -> FlowState:
        now = self.core.clock.now()
        audit.record(conn, flow.audit, now, Activity.REGISTERED, Result.SUCCEEDED,
                     method=kind, detail=detail)
        notices.extend(self.core.notifier.method_changed(before, kind, user.username, now,
                                                         flow.terminal, flow.language))
        remember_language(conn, user.id, flow.language)
        save_flow(conn, flow)
        return self.core.state(conn, flow)

    def question_pool(self, flow_id: object, terminal: str) -> list[Question]:
        self.core.tx(lambda conn, notices: self.registering(conn, flow_id, terminal, notices,
                                                            "questions"))
        return [Question(id=qid, text=text) for qid, text in PREDEFINED.items()]

    # ------------------------------------------------------------ contacts
    def add_email(self, flow_id: object, terminal: str, address: object) -> FlowState:
        text = text_arg(address, "address", 254)
        try:
            email = validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise InvalidInput(f"not a valid email address: {exc}", field="address") from None
        return self.send_confirmation("email", Channel.EMAIL, email, flow_id, terminal)

    def add_phone(self, flow_id: object, terminal: str, kind: object, number: object,
                  channel: object) -> FlowState:
        method, chan = kind_and_channel(kind, channel, PHONE_KINDS, "kind",
                                        "this phone cannot get a code that way")
        e164 = normalize_phone(text_arg(number, "number", 40))
        if e164 is None:
            raise InvalidInput("not a valid phone number; include the country code, "
                               "e.g. +1 425 555 0100", field="number")
        return self.send_confirmation(method, chan, e164, flow_id, terminal)

    def send_confirmation(self, kind: str, channel: Channel, value: str, flow_id: object,
                          terminal: str) -> FlowState:
        outgoing: list[Message] = []

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow, _ = self.registering(conn, flow_id, terminal, notices, kind)
            message = self.prove.issue_code(conn, notices, flow, kind, channel, value,
                                            METHODS[kind].mask(value))
            flow.data["pending"] = {"kind": kind}
            save_flow(conn, flow)
            self.core.progress(conn, flow, Result.SUCCEEDED,
                               f"confirmation code sent by {channel.value}", kind)
            outgoing.extend([message] if message else [])
            return self.core.state(conn, flow)

        state = self.core.tx(work)
        self.core.notify(outgoing)  # queued, like every code
        return state

    def confirm_contact(self, flow_id: object, terminal: str, challenge_id: object,
                        code: object) -> FlowState:
        core = self.core

        def precheck(conn: Connection, flow: Flow) -> None:
            self.registrant(conn, flow)
            if not flow.data.get("pending"):
                raise InvalidInput("no contact is waiting for confirmation", field="challenge")

        def accept(conn: Connection, notices: list[Message], flow: Flow,
                   challenge: CodeToCheck, reservation: Reservation) -> FlowState:
            core.throttle.release(conn, reservation)
            user = self.registrant(conn, flow)
            method = challenge.method
            before = registry.load(conn, user.id).contacts
            registry.set_method(conn, user.id, method, codes.destination_of(conn, challenge),
                                core.clock.now())
            for key in PENDING_KEYS:
                flow.data.pop(key, None)
            return self.registered(conn, notices, flow, user, method, before, f"{method} set")

        return self.prove.code_attempt(flow_id, terminal, challenge_id, code, precheck, accept,
                                       "wrong confirmation code")

    # ------------------------------------------------------------ questions
    def set_questions(self, flow_id: object, terminal: str, entries: object) -> FlowState:
        policy = self.core.policy
        if not isinstance(entries, list) or len(entries) > 10:
            raise InvalidInput("entries must be a list", field="entries")
        triples: list[tuple[str, str | None, str]] = []
        for raw in entries:
            try:
                entry = raw if isinstance(raw, QuestionAnswer) else QuestionAnswer.model_validate(
                    raw)
            except Exception:  # pydantic's error text may echo the answer: say less
                raise InvalidInput("each entry needs a question and an answer",
                                   field="entries") from None
            answer = text_arg(entry.answer, "answer", 200, allow_empty=True)
            custom = (text_arg(entry.custom_text, "question", 400)
                      if entry.custom_text is not None else None)
            if custom is not None and not policy.questions.custom_allowed:
                raise InvalidInput("custom questions are not allowed", field="entries")
            triples.append((entry.question_id or "", custom, answer))
        problems = validate_entries(triples, policy.questions.to_register)
        if problems:
            raise InvalidInput("; ".join(problems), field="entries", problems=problems)

        # argon2 (64 MiB an answer at the default cost, ~1 s of CPU for a set) only for a flow
        # that may register: it exists, is at the registration step, and nothing is blocked
        # (Core.flow). Then hash outside any transaction, and store in a second one that checks
        # the flow again (it may have ended, moved on or been blocked meanwhile).
        self.core.tx(lambda conn, notices: self.registering(conn, flow_id, terminal, notices,
                                                            "questions"))
        stored = [StoredAnswer(qid if custom is None else f"custom:{i}", custom,
                               self.core.hasher.hash(normalize_answer(answer)))
                  for i, (qid, custom, answer) in enumerate(triples, start=1)]

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow, user = self.registering(conn, flow_id, terminal, notices, "questions")
            before = registry.load(conn, user.id).contacts
            registry.set_answers(conn, user.id, stored)
            return self.registered(conn, notices, flow, user, "questions", before,
                                   f"{len(stored)} security questions set")

        return self.core.tx(work)

    # ------------------------------------------------------------ authenticator
    def begin_authenticator(self, flow_id: object, terminal: str) -> AuthenticatorEnrollment:
        def work(conn: Connection, notices: list[Message]) -> AuthenticatorEnrollment:
            flow, user = self.registering(conn, flow_id, terminal, notices, "authenticator")
            secret = totp.new_secret()
            registry.set_pending_secret(self.core.key, flow, secret)  # sealed until confirmed
            save_flow(conn, flow)
            self.core.progress(conn, flow, Result.SUCCEEDED, "authenticator enrolment started",
                               "authenticator")
            uri = totp.provisioning_uri(secret, user.username,
                                        self.core.policy.authenticator.issuer)
            return AuthenticatorEnrollment(secret=secret, uri=uri)

        return self.core.tx(work)

    def confirm_authenticator(self, flow_id: object, terminal: str, code: object) -> FlowState:
        digits = clean_code(code, totp.DIGITS)
        core = self.core

        def load(conn: Connection, flow: Flow) -> str:
            self.registrant(conn, flow, "authenticator")
            secret = registry.pending_secret(core.key, flow)
            if not secret:
                raise InvalidInput("start the authenticator set-up first", field="code")
            return str(secret)

        def settle(conn: Connection, notices: list[Message], flow: Flow, secret: str,
                   step: int | None, reservation: Reservation) -> FlowState:
            user = self.registrant(conn, flow, "authenticator")
            if step is None or registry.pending_secret(core.key, flow) != secret:
                self.prove.failed(conn, notices, flow, "authenticator",
                                  repeat_key(core.clock.now(), digits),
                                  "wrong authenticator code at enrolment",
                                  WrongCode("that code is not right",
                                            support_code=flow.support_code), reservation)
            assert step is not None
            core.throttle.release(conn, reservation)
            before = registry.load(conn, user.id).contacts
            registry.set_authenticator(conn, core.key, user.id, secret, core.clock.now())
            registry.claim_totp_step(conn, user.id, step)  # the set-up code is spent
            flow.data.pop("enroll_secret", None)
            return self.registered(conn, notices, flow, user, "authenticator", before,
                                   "authenticator app set")

        return self.prove.attempt(
            flow_id, terminal, "authenticator", load,
            lambda secret: totp.matching_step(secret, digits, core.clock.now()), settle)

    # ------------------------------------------------------------ done
    def finish_registration(self, flow_id: object, terminal: str) -> FlowState:
        core = self.core

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow, user = self.registering(conn, flow_id, terminal, notices)
            status = accounts.registration_status(core.policy, core.clock.now(), user,
                                                  registry.load(conn, user.id))
            now = core.clock.now()
            if status.missing == 0:
                registry.mark_registered(conn, user.id, now)
            audit.record(conn, flow.audit, now, Activity.REGISTERED,
                         Result.SUCCEEDED if status.missing == 0 else Result.FAILED,
                         detail="registration reviewed" if status.missing == 0
                         else f"registration left incomplete ({status.missing} missing)")
            if flow.purpose == Purpose.CHANGE:  # registered on the way: now the new password
                flow.step = Step.NEW_PASSWORD
                save_flow(conn, flow)
            else:
                core.finish(conn, flow, "registered", clear=False)
            return core.state(conn, flow)

        return core.tx(work)
