"""Registering security info after signing in: contacts (confirmed by a code), questions,
the authenticator app (confirmed by a first code)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, select

from kiosk.backend import (
    AuthenticatorEnrollment,
    Channel,
    FlowState,
    InvalidInput,
    MethodKind,
    MethodOption,
    Purpose,
    Question,
    QuestionAnswer,
    RegistrationStatus,
    Step,
    WrongCode,
)
from kiosk.engine import audit, registry, totp
from kiosk.engine.audit import Activity, Result
from kiosk.engine.complete import Completion
from kiosk.engine.delivery_base import Message
from kiosk.engine.directory import User
from kiosk.engine.flow import CHANNELS_OF, Flow, save_flow
from kiosk.engine.messages import code_message
from kiosk.engine.questions import PREDEFINED, validate_entries
from kiosk.engine.registry import StoredAnswer
from kiosk.engine.schema import challenges
from kiosk.engine.service import masks_of, text_arg
from kiosk.engine.text import normalize_answer, normalize_phone
from kiosk.engine.throttle import Reservation
from kiosk.engine.verify import PURPOSE_LABELS, CodeToCheck, clean_code


class Registration(Completion):
    def status(self, conn: Connection, user: User) -> RegistrationStatus:
        reg = registry.load(conn, user.id)
        masks = masks_of(reg)
        usable = self.usable_methods(user, reg)
        needed = 2 if user.is_admin else self.policy.sspr.methods_required
        days = self.policy.registration.reconfirm_days
        due = days > 0 and (user.registered_at is None
                            or self.clock.now() - user.registered_at > timedelta(days=days))
        available = [MethodKind(m) for m in self.policy.sspr.methods
                     if not (m == "questions" and user.is_admin)]
        return RegistrationStatus(
            registered=[MethodOption(kind=MethodKind(k), masked=masks.get(k, ""),
                                     channels=CHANNELS_OF[k]) for k in usable],
            available=available, missing=max(0, needed - len(usable)),
            questions_to_register=self.policy.questions.to_register,
            custom_questions_allowed=self.policy.questions.custom_allowed, reconfirm_due=due)

    def must_register(self, conn: Connection, user: User) -> bool:
        """registration.require: an in-scope user who lacks methods (or whose reconfirmation
        is due) registers right after signing in, before changing the password."""
        if not self.policy.registration.require:
            return False
        groups = self.directory.group_names(conn, user.id)
        if self.eligibility(Purpose.REGISTER, user, groups, registry.Registered(), "") is not None:
            return False
        status = self.status(conn, user)
        return status.missing > 0 or status.reconfirm_due

    def state(self, conn: Connection, flow: Flow) -> FlowState:  # type: ignore[override]
        if flow.step == Step.REGISTER and flow.user_id is not None:
            flow.registration = self.status(conn, self.user_of(conn, flow))
        return super().state(conn, flow)

    def registering(self, conn: Connection, flow_id: object, terminal: str,
                    notices: list[Message], kind: str | None = None) -> tuple[Flow, User]:
        flow = self.flow(conn, flow_id, terminal, notices)
        return flow, self.registrant(conn, flow, kind)

    def registrant(self, conn: Connection, flow: Flow, kind: str | None = None) -> User:
        """The account of a flow at the registration step (reached only after the sign-in
        and, for an account with methods, the step-up proof)."""
        flow.expect(Step.REGISTER)
        user = self.user_of(conn, flow)
        if kind is not None and (kind not in self.policy.sspr.methods
                                 or (kind == "questions" and user.is_admin)):
            raise InvalidInput("this method cannot be registered here", field="kind")
        return user

    def registered(self, conn: Connection, notices: list[Message], flow: Flow, user: User,
                   kind: str, before: dict[str, str], detail: str) -> FlowState:
        now = self.clock.now()
        audit.record(conn, flow.audit, now, Activity.REGISTERED, Result.SUCCEEDED,
                     method=kind, detail=detail)
        notices.extend(self.notifier.method_changed(before, kind, user.username, now,
                                                    flow.terminal))
        save_flow(conn, flow)
        return self.state(conn, flow)

    # ------------------------------------------------------------ read-only
    def question_pool(self, flow_id: object, terminal: str) -> list[Question]:
        self.tx(lambda conn, notices: self.registering(conn, flow_id, terminal, notices,
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
        try:
            method, chan = MethodKind(kind), Channel(channel)
        except ValueError:
            raise InvalidInput("unknown phone kind or channel", field="kind") from None
        if method.value not in ("mobile", "office") or chan not in CHANNELS_OF[method.value]:
            raise InvalidInput("this phone cannot get a code that way", field="channel")
        e164 = normalize_phone(text_arg(number, "number", 40))
        if e164 is None:
            raise InvalidInput("not a valid phone number; include the country code, "
                               "e.g. +1 425 555 0100", field="number")
        return self.send_confirmation(method.value, chan, e164, flow_id, terminal)

    def send_confirmation(self, kind: str, channel: Channel, value: str, flow_id: object,
                          terminal: str) -> FlowState:
        sent: dict[str, Any] = {}

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow, _ = self.registering(conn, flow_id, terminal, notices, kind)
            now = self.clock.now()
            self.resend_guard(flow, kind)
            self.refuse_send(conn, notices, flow, kind)
            challenge_id, code = self.new_challenge(conn, flow, kind, channel.value, value)
            masks = masks_of(registry.Registered(contacts={kind: value}))
            flow.data.update(pending={"kind": kind}, challenge=challenge_id, challenge_method=kind,
                             challenge_masked=masks[kind], code_length=self.policy.codes.length,
                             resend_at=(now + timedelta(
                                 seconds=self.policy.codes.resend_after_seconds)).isoformat())
            save_flow(conn, flow)
            self.progress(conn, flow, Result.SUCCEEDED, f"confirmation code sent by "
                          f"{channel.value}", kind)
            sent["message"] = code_message(
                channel.value, value, code, self.policy.organization,
                PURPOSE_LABELS[flow.purpose], self.policy.codes.lifetime_minutes)
            sent["challenge"] = challenge_id
            return self.state(conn, flow)

        state = self.tx(work)
        self.deliver_code(state, sent["message"], sent["challenge"], terminal)
        return state

    def confirm_contact(self, flow_id: object, terminal: str, challenge_id: object,
                        code: object) -> FlowState:
        digits = clean_code(code, self.policy.codes.length)

        def load(conn: Connection, flow: Flow) -> CodeToCheck:
            self.registrant(conn, flow)
            if not flow.data.get("pending"):
                raise InvalidInput("no contact is waiting for confirmation", field="challenge")
            return self.load_challenge(conn, flow, challenge_id)

        def settle(conn: Connection, notices: list[Message], flow: Flow, challenge: CodeToCheck,
                   right: bool, reservation: Reservation) -> FlowState:
            user = self.registrant(conn, flow)
            if not right:
                self.failed(conn, notices, flow, challenge.method,
                            f"{challenge.challenge_id}:{digits}", "wrong confirmation code",
                            WrongCode("that code is not right", support_code=flow.support_code),
                            reservation)
            self.claim_challenge(conn, flow, challenge)
            self.throttle.release(conn, reservation)
            value = conn.execute(select(challenges.c.destination).where(
                challenges.c.id == challenge.challenge_id)).scalar_one()
            method = challenge.method
            before = registry.load(conn, user.id).contacts
            registry.set_method(conn, user.id, method, value, self.clock.now())
            for key in ("pending", "challenge", "challenge_method", "challenge_masked",
                        "resend_at"):
                flow.data.pop(key, None)
            return self.registered(conn, notices, flow, user, method, before, f"{method} set")

        return self.attempt(flow_id, terminal, "code", load,
                            lambda challenge: self.code_is_right(challenge, digits), settle)

    # ------------------------------------------------------------ questions
    def set_questions(self, flow_id: object, terminal: str, entries: object) -> FlowState:
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
            if custom is not None and not self.policy.questions.custom_allowed:
                raise InvalidInput("custom questions are not allowed", field="entries")
            triples.append((entry.question_id or "", custom, answer))
        problems = validate_entries(triples, self.policy.questions.to_register)
        if problems:
            raise InvalidInput("; ".join(problems), field="entries", problems=problems)

        # argon2 (64 MiB an answer at the default cost, ~1 s of CPU for a set) only for a flow
        # that may register: it exists, is at the registration step, and nothing is blocked.
        # Then hash outside any transaction, and store in a second one that checks the flow
        # again (it may have ended, moved on or been blocked meanwhile).
        def check(conn: Connection, notices: list[Message]) -> None:
            flow, _ = self.registering(conn, flow_id, terminal, notices, "questions")
            self.refuse_if_blocked(conn, flow)

        self.tx(check)
        stored = [StoredAnswer(qid if custom is None else f"custom:{i}", custom,
                               self.hasher.hash(normalize_answer(answer)))
                  for i, (qid, custom, answer) in enumerate(triples, start=1)]

        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow, user = self.registering(conn, flow_id, terminal, notices, "questions")
            self.refuse_if_blocked(conn, flow)
            before = registry.load(conn, user.id).contacts
            registry.set_answers(conn, user.id, stored)
            return self.registered(conn, notices, flow, user, "questions", before,
                                   f"{len(stored)} security questions set")

        return self.tx(work)

    # ------------------------------------------------------------ authenticator
    def begin_authenticator(self, flow_id: object, terminal: str) -> AuthenticatorEnrollment:
        def work(conn: Connection, notices: list[Message]) -> AuthenticatorEnrollment:
            flow, user = self.registering(conn, flow_id, terminal, notices, "authenticator")
            secret = totp.new_secret()
            registry.set_pending_secret(self.key, flow, secret)  # sealed, until confirmed or ended
            save_flow(conn, flow)
            self.progress(conn, flow, Result.SUCCEEDED, "authenticator enrolment started",
                          "authenticator")
            uri = totp.provisioning_uri(secret, user.username, self.policy.authenticator.issuer)
            return AuthenticatorEnrollment(secret=secret, uri=uri)

        return self.tx(work)

    def confirm_authenticator(self, flow_id: object, terminal: str, code: object) -> FlowState:
        digits = clean_code(code, totp.DIGITS)

        def load(conn: Connection, flow: Flow) -> str:
            self.registrant(conn, flow, "authenticator")
            secret = registry.pending_secret(self.key, flow)
            if not secret:
                raise InvalidInput("start the authenticator set-up first", field="code")
            return str(secret)

        def settle(conn: Connection, notices: list[Message], flow: Flow, secret: str,
                   step: int | None, reservation: Reservation) -> FlowState:
            user = self.registrant(conn, flow, "authenticator")
            if step is None or registry.pending_secret(self.key, flow) != secret:
                self.failed(conn, notices, flow, "authenticator", self.totp_entry(digits),
                            "wrong authenticator code at enrolment",
                            WrongCode("that code is not right", support_code=flow.support_code),
                            reservation)
            assert step is not None
            self.throttle.release(conn, reservation)
            before = registry.load(conn, user.id).contacts
            registry.set_authenticator(conn, self.key, user.id, secret, self.clock.now())
            registry.claim_totp_step(conn, user.id, step)  # the set-up code is spent
            flow.data.pop("enroll_secret", None)
            return self.registered(conn, notices, flow, user, "authenticator", before,
                                   "authenticator app set")

        return self.attempt(flow_id, terminal, "authenticator", load,
                            lambda secret: totp.matching_step(secret, digits, self.clock.now()),
                            settle)

    # ------------------------------------------------------------ done
    def finish_registration(self, flow_id: object, terminal: str) -> FlowState:
        def work(conn: Connection, notices: list[Message]) -> FlowState:
            flow, user = self.registering(conn, flow_id, terminal, notices)
            status = self.status(conn, user)
            now = self.clock.now()
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
                self.finish(conn, flow, "registered", clear=False)
            return self.state(conn, flow)

        return self.tx(work)
